"""Shared fixtures: settings in a temp dir, the backend matrix, the shared data folder."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings, load_settings
from lantai.search.backends.base import SearchBackend

pytest_plugins = ["tests.es_server"]

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests using it skip on a user's clone where it is absent."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not present (it is only beside the repo in CI)")
    return path


class FakeClock:
    """A clock tests move by hand (``clock.now += 60``)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cheap_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny parameters, so tests do not spend seconds hashing passwords."""
    import argon2

    from lantai.accounts import passwords

    monkeypatch.setattr(passwords, "_hasher", argon2.PasswordHasher(
        time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(passwords, "_DUMMY", None)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        return load_settings(environ={}, overrides=overrides)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


def _embedded(settings: Settings, request: pytest.FixtureRequest) -> SearchBackend:
    from lantai.search.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(settings)


def _elasticsearch(settings: Settings, request: pytest.FixtureRequest, *,
                   cluster: str = "es_cluster") -> SearchBackend:
    """The Elasticsearch backend on the session's ``cluster`` fixture (tests/es_server.py),
    with its credentials and CA, under a fresh ``lantai-test-*`` prefix."""
    import dataclasses
    import uuid

    pytest.importorskip("elasticsearch", reason="pip install 'lantai[elasticsearch]'")
    try:
        from lantai.search.backends.elasticsearch import ElasticsearchBackend
    except ImportError as exc:
        pytest.skip(f"Elasticsearch backend unavailable: {exc}")
    node = request.getfixturevalue(cluster).endpoint
    es = dataclasses.replace(settings.elasticsearch, urls=(node.url,),
                             index_prefix=f"lantai-test-{uuid.uuid4().hex[:8]}",
                             api_key=node.api_key or "", username=node.username or "",
                             password=node.password or "", ca_certs=node.ca_certs or "")
    backend = ElasticsearchBackend(dataclasses.replace(settings, backend="elasticsearch",
                                                       elasticsearch=es))
    request.addfinalizer(backend.drop)
    return backend


#: The Elasticsearch variants: the preferred build (or LANTAI_ES_URL), the newest 8.x, and the
#: preferred build with TLS and a credential limited to what Lantai needs. Each node starts
#: when its first test runs and skips, saying why, when its build or Java is missing.
ES_VARIANTS = {
    "elasticsearch": "es_cluster",
    "elasticsearch-8x": "es_cluster_8x",
    "elasticsearch-secure": "es_cluster_secure",
}

BACKEND_FACTORIES: dict[str, Callable[[Settings, pytest.FixtureRequest], SearchBackend]] = {
    "embedded": _embedded,
    **{name: functools.partial(_elasticsearch, cluster=fixture)
       for name, fixture in ES_VARIANTS.items()},
}


@pytest.fixture(params=[
    "embedded",
    *(pytest.param(name, marks=pytest.mark.es) for name in ES_VARIANTS),
])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Iterator[SearchBackend]:
    """Every backend, for the contract suite."""
    instance = BACKEND_FACTORIES[request.param](settings, request)
    yield instance
    instance.close()


def record(code: str, title: str, text: str = "", **fields: Any) -> Record:
    fields.setdefault("open_status", OpenStatus.OPEN)
    return Record(archival_code=code, title=title, pages=(text,) if text else (), **fields)


@pytest.fixture
def sample_records() -> list[Record]:
    """A small archive mixing scripts, dates, fonds and open statuses."""
    return [
        record("J001-WS·1939-Y-0001", "東北抗日聯軍楊靖宇部作戰報告",
               "民國二十八年四月，楊靖宇率東北抗日聯軍第一路軍於濛江\n一帶與日軍作戰，斃敵甚衆。",
               fonds="J001", fonds_name="安澜市政府", category="文书", year=1939,
               date_text="民国二十八年四月", date_start=19390401, date_end=19390430,
               creator="東北抗日聯軍第一路軍", retention="永久"),
        record("J001-WS·1939-Y-0002", "关于救济难民的报告",
               "本会收容难民三百余人，米价上涨，请拨款救济。", fonds="J001",
               fonds_name="安澜市政府", category="文书", year=1939, date_start=19390512,
               date_end=19390512, date_text="1939-05-12", creator="难民救济委员会",
               retention="长期"),
        record("J017-001-002-003", "敵機轟炸市區損失調查表",
               "四月廿三日敵機九架轟炸市區，炸毀民房四十餘間，死傷平民二十餘人。",
               fonds="J017", category="文书", year=1939, date_start=19390423,
               date_end=19390423, date_text="19390423", creator="防空司令部",
               retention="永久"),
        record("X001-WS·1952-Y-0010", "抗美援朝捐献飞机大炮的通知",
               "各单位要积极响应抗美援朝总会号召，开展捐献飞机大炮运动。", fonds="X001",
               category="文书", year=1952, date_start=19520601, date_end=19520601,
               date_text="1952年6月1日", creator="中共安澜市委", retention="永久"),
        record("X012-WS·1956-D30-0003", "关于公私合营工作的总结",
               "全市私营工商业实行全行业公私合营，杨靖宇路商店全部合营。", fonds="X012",
               category="文书", year=1956, date_start=19560101, date_end=19561231,
               date_text="1956", creator="安澜市计划委员会", retention="定期30年"),
        record("X012-WS·1958-Y-0001", "大跃进钢铁生产会议记录", "", fonds="X012",
               category="会计", year=1958, creator="安澜市计划委员会", retention="永久"),
        # not public: must never appear in public results, counts, facets or snippets
        record("X001-WS·1985-Y-0099", "杨靖宇纪念馆扩建绝密方案",
               "机密内容：杨靖宇纪念馆扩建，涉及个人信息。", fonds="X099",
               category="文书", year=1985, creator="秘密机关",
               open_status=OpenStatus.CONTROLLED, classification="机密"),
        record("X001-WS·1990-Y-0100", "未审核的杨靖宇资料", "杨靖宇 未审核 文本", fonds="X099",
               year=1990, creator="秘密机关", open_status=OpenStatus.UNREVIEWED),
    ]
