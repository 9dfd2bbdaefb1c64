"""The test Elasticsearch answers and does what the Elasticsearch backend relies on.

These run against a real server (``es`` marker): the throwaway node from tests/es_server.py or
the cluster named by LANTAI_ES_URL. The index names are unique per run so a shared cluster is
left as it was found.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.es_server import EsCluster, cluster_version

pytestmark = pytest.mark.es

DIMS = 8


@pytest.fixture(scope="module")
def client(es_cluster: EsCluster) -> Iterator[Any]:
    """The official client, imported lazily so the default suite does not need it."""
    elasticsearch = pytest.importorskip(
        "elasticsearch", reason="the es tests need the client: pip install 'lantai[elasticsearch]'"
    )
    es = elasticsearch.Elasticsearch(**es_cluster.client_kwargs(), request_timeout=30)
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


def test_server_answers_with_a_supported_version(es_cluster: EsCluster) -> None:
    version = cluster_version(es_cluster.endpoint)
    assert version == es_cluster.version
    major = int(version.split(".")[0])
    assert major in (8, 9), f"Lantai supports Elasticsearch 8.x and 9.x, got {version}"


def test_client_reports_health_and_version(client: Any, es_cluster: EsCluster) -> None:
    health = client.cluster.health(wait_for_status="yellow", timeout="10s")
    assert health["status"] in ("yellow", "green")
    nodes = client.nodes.info(node_id="_local", filter_path="nodes.*.version")["nodes"]
    assert [n["version"] for n in nodes.values()] == [es_cluster.version]


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
