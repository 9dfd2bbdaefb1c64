"""Settings layers and validation errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from lantai.config import load_settings
from lantai.errors import ConfigError


def test_layers_later_wins(tmp_path: Path) -> None:
    toml = tmp_path / "lantai.toml"
    toml.write_text('data_dir = "from-file"\n[search]\ntitle_weight = 9\nmax_size = 50\n',
                    encoding="utf-8")
    env = {"LANTAI_DATA_DIR": "from-env", "LANTAI_SEARCH__MAX_SIZE": "70",
           "LANTAI_ES_URL": "http://a:9200,http://b:9200"}
    s = load_settings(toml, environ=env, overrides={"search.max_size": 80})
    assert s.data_dir == Path("from-env")
    assert s.search.title_weight == 9.0
    assert s.search.max_size == 80
    assert s.elasticsearch.urls == ("http://a:9200", "http://b:9200")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"environ": {"LANTAI_NOPE": "1"}}, "LANTAI_NOPE: unknown setting 'nope'"),
    ({"environ": {"LANTAI_SEARCH__MAX_SIZE": "many"}}, "'search.max_size' expects int"),
    ({"environ": {"LANTAI_BACKEND": "solr"}}, "'backend' must be one of"),
    ({"overrides": {"search.title_weight": -1}}, "'search.title_weight' must be ≥ 0"),
    ({"overrides": {"server.port": 70000}}, "'server.port'"),
    ({"overrides": {"search.bogus": 1}}, "unknown setting 'search.bogus'"),
])
def test_bad_settings_name_the_key(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    kwargs.setdefault("environ", {})
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_settings(**kwargs)


def test_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "lantai.toml"
    bad.write_text("[search\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, environ={})
    bad.write_text("[search]\nspeed = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown setting 'search\.speed'"):
        load_settings(bad, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})
