"""Measure what Lantai-shaped documents cost on disk in Elasticsearch, per field.

The sizing arithmetic in docs/elasticsearch.md rests on these numbers. The script indexes the
Chinese texts under ../shared/data (晶報 articles, CMRC 2018 and DRCD passages) the way the
Elasticsearch backend stores them: Lantai's own token streams (uni, bi, words) in text fields
with the built-in whitespace analyzer, the original text in ``_source`` only, and one 384-dim
vector per ~256 characters (random unit vectors: quantised vectors have a fixed size, so their
values do not matter here). Each index is force-merged to one segment before the ``_disk_usage``
API is read, so the figures are the compact steady state.

Usage (needs ``bash tools/es/fetch.sh`` first, and the elasticsearch client)::

    python tools/es/measure_size.py [--vector-types int8_hnsw,int4_hnsw,bbq_hnsw,hnsw]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
CORPORA = (
    "corpus/ecpo_jingbao/corpus.jsonl",
    "retrieval/cmrc2018/corpus.jsonl",
    "retrieval/drcd/corpus.jsonl",
)
DIMS = 384
PASSAGE_CHARS = 256
STREAMS = ("uni", "bi", "words")

sys.path.insert(0, str(REPO))
from tests import es_server  # noqa: E402  (the test plugin's node launcher)


def load_texts() -> list[tuple[str, str, str]]:
    """(id, title, text) of every document in the shared corpora."""
    docs = []
    for rel in CORPORA:
        path = SHARED / rel
        if not path.is_file():
            raise SystemExit(f"{path} is missing: this script needs ../shared beside the repo")
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                docs.append((row["id"], row.get("title") or "", row["text"]))
    return docs


def prepare(docs: list[tuple[str, str, str]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Bulk sources with Lantai's token streams and passage vectors; also token counts."""
    from lantai.text.analysis import default_analyzer

    analyzer = default_analyzer()
    rng = np.random.default_rng(0)
    counts = dict.fromkeys(STREAMS, 0)
    sources = []
    for i, (doc_id, title, text) in enumerate(docs):
        streams = analyzer.streams(text)
        for name in STREAMS:
            counts[name] += len(getattr(streams, name).split())
        n_passages = max(1, -(-len(text) // PASSAGE_CHARS))
        vectors = rng.standard_normal((n_passages, DIMS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        sources.append(
            {
                "_id": doc_id,
                "fonds": f"F{i % 40}",
                "date": f"19{20 + i % 30}-01-01",
                "title": title,
                "text": text,
                **{f"text_{name}": getattr(streams, name) for name in STREAMS},
                "passages": [{"vector": v.tolist()} for v in vectors],
            }
        )
    return sources, counts


def mappings(vector_type: str | None, exclude_streams: bool) -> dict[str, Any]:
    tokens = {"type": "text", "analyzer": "whitespace"}
    props: dict[str, Any] = {
        "fonds": {"type": "keyword"},
        "date": {"type": "date"},
        "title": {"type": "keyword"},
        "text": {"type": "keyword", "index": False, "doc_values": False},
        **{f"text_{name}": tokens for name in STREAMS},
    }
    if vector_type:
        vector = {
            "type": "dense_vector",
            "dims": DIMS,
            "similarity": "cosine",
            "index_options": {"type": vector_type},
        }
        props["passages"] = {"type": "nested", "properties": {"vector": vector}}
    result: dict[str, Any] = {"properties": props}
    if exclude_streams:
        result["_source"] = {"excludes": [f"text_{name}" for name in STREAMS]}
    return result


def measure(
    es: Any, name: str, sources: list[dict[str, Any]], mapping: dict[str, Any]
) -> dict[str, int]:
    """Index, force-merge, and return bytes per field from the _disk_usage API."""
    from elasticsearch import helpers

    settings = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
    es.indices.create(index=name, settings=settings, mappings=mapping)
    with_vectors = "passages" in mapping["properties"]

    def actions() -> Iterator[dict[str, Any]]:
        for src in sources:
            doc = src if with_vectors else {k: v for k, v in src.items() if k != "passages"}
            yield {"_index": name, **doc}

    began = time.monotonic()
    helpers.bulk(es, actions(), chunk_size=200)
    es.indices.refresh(index=name)
    es.indices.forcemerge(index=name, max_num_segments=1)
    took = time.monotonic() - began
    usage = es.indices.disk_usage(index=name, run_expensive_tasks=True)[name]
    fields = {f: int(info["total_in_bytes"]) for f, info in usage["fields"].items()}
    store = es.indices.stats(index=name)["_all"]["primaries"]["store"]["size_in_bytes"]
    print(f"[{name}] load + merge {took:.1f} s, store {store / 1e6:.2f} MB")
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vector-types", default="int8_hnsw", help="comma-separated")
    parser.add_argument("--heap", default="512m")
    args = parser.parse_args()

    docs = load_texts()
    text_bytes = sum(len(t.encode("utf-8")) for _, _, t in docs)
    text_chars = sum(len(t) for _, _, t in docs)
    sources, counts = prepare(docs)
    n_vectors = sum(len(s["passages"]) for s in sources)
    print(f"{len(docs)} documents, {text_chars:,} characters, {text_bytes:,} UTF-8 bytes")
    print(
        "tokens per character: " + ", ".join(f"{k} {v / text_chars:.2f}" for k, v in counts.items())
    )
    print(f"{n_vectors:,} passage vectors of {DIMS} dims")

    dist, java = es_server.find_distribution(), es_server.find_java_home()
    if dist is None or java is None:
        raise SystemExit(f"no local Elasticsearch: {es_server.FETCH_HINT}")
    from elasticsearch import Elasticsearch

    node = es_server.LocalNode(dist, java, heap=args.heap)
    node.start()
    try:
        es = Elasticsearch(node.url, request_timeout=600)
        print(f"Elasticsearch {dist.version}, heap {args.heap}")
        full = measure(es, "with-streams-in-source", sources, mappings(None, False))
        lean = measure(es, "streams-excluded", sources, mappings(None, True))
        print("bytes per UTF-8 byte of text (streams excluded from _source):")
        for name in STREAMS:
            print(f"  text_{name:6s} {lean[f'text_{name}'] / text_bytes:.3f}")
        print(f"  _source      {lean['_source'] / text_bytes:.3f}")
        print(f"  _source with the streams kept in it: {full['_source'] / text_bytes:.3f}")
        print(f"  _recovery_source (transient): {lean.get('_recovery_source', 0) / text_bytes:.3f}")
        for vector_type in args.vector_types.split(","):
            fields = measure(es, vector_type, sources, mappings(vector_type, True))
            per_vector = fields["passages.vector"] / n_vectors
            # Nested passage documents spread the parents' doc ids, so postings grow a little.
            streams = sum(fields[f"text_{name}"] for name in STREAMS) / text_bytes
            print(
                f"  {vector_type}: {per_vector:.0f} bytes per vector on disk; token streams "
                f"{streams:.3f} and _source {fields['_source'] / text_bytes:.3f} per text byte"
            )
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
