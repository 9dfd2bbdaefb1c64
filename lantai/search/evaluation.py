"""Retrieval evaluation: index a test corpus, run its queries, score the run.

Archives use this (``lantai eval``) to check Lantai on their own query sets. Formats: corpus
JSONL ``{"id","title","text","date"?}``, queries JSONL ``{"id","text"}``, qrels TSV
``query_id<TAB>doc_id<TAB>relevance`` (a header line is optional; TREC's four-column
``qid 0 docid rel`` is accepted too). The run is written in TREC format.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lantai.catalog.model import OpenStatus, Record
from lantai.config import Settings
from lantai.errors import ImportFailed
from lantai.search.backends.base import SearchBackend, SearchMode, SearchRequest
from lantai.text.dates import parse_date_or_none


@dataclass(frozen=True)
class Metrics:
    ndcg10: float
    recall100: float
    mrr10: float
    queries: int
    mean_ms: float
    p95_ms: float

    def as_text(self) -> str:
        return (f"nDCG@10 {self.ndcg10:.4f}  Recall@100 {self.recall100:.4f}  "
                f"MRR@10 {self.mrr10:.4f}  ({self.queries} queries, "
                f"mean {self.mean_ms:.1f} ms, p95 {self.p95_ms:.1f} ms)")


def read_jsonl(path: Path, required: Sequence[str]) -> Iterator[dict[str, str]]:
    """Objects of a JSONL file, failing with file and line on bad input."""
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFailed(f"{path}, line {number}: invalid JSON: {exc.msg}") from None
            missing = [k for k in required if k not in obj]
            if not isinstance(obj, dict) or missing:
                raise ImportFailed(f"{path}, line {number}: missing field(s) {missing}")
            yield obj


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query id → {doc id: relevance}."""
    if not path.is_file():
        raise ImportFailed(f"file not found: {path}")
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 4:
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise ImportFailed(f"{path}, line {number}: expected 3 or 4 columns")
        try:
            rel = int(parts[2])
        except ValueError:
            if number == 1:
                continue  # header
            raise ImportFailed(f"{path}, line {number}: relevance {parts[2]!r} is not an "
                               "integer") from None
        qrels.setdefault(parts[0], {})[parts[1]] = rel
    return qrels


def corpus_records(path: Path) -> Iterator[Record]:
    """Evaluation corpus lines as open records."""
    for obj in read_jsonl(path, ("id", "text")):
        date = parse_date_or_none(str(obj.get("date") or ""))
        yield Record(
            archival_code=str(obj["id"]), title=str(obj.get("title") or ""),
            pages=(str(obj["text"]),), open_status=OpenStatus.OPEN,
            date_text=str(obj.get("date") or ""),
            date_start=int(date.start.strftime("%Y%m%d")) if date else None,
            date_end=int(date.end.strftime("%Y%m%d")) if date else None,
        )


def ndcg_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((r for r in judged.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    relevant = {d for d, r in judged.items() if r > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def mrr_at(ranked: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if judged.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(
    settings: Settings,
    corpus: Path,
    queries: Path,
    qrels: Path,
    run_path: Path,
    *,
    mode: SearchMode = SearchMode.KEYWORD,
    k: int = 100,
    tag: str = "lantai",
    transform: Callable[[str], str] | None = None,
    backend_factory: Callable[[Settings], SearchBackend] | None = None,
    progress: bool = False,
) -> Metrics:
    """Index ``corpus`` in a temporary index, run every judged query, write and score the run."""
    judgments = read_qrels(qrels)
    query_list = [q for q in read_jsonl(queries, ("id", "text")) if str(q["id"]) in judgments]
    if not query_list:
        raise ImportFailed(f"{queries}: no query has judgments in {qrels}")
    from lantai.search.backends import create_backend

    with tempfile.TemporaryDirectory(prefix="lantai-eval-") as tmp:
        local = replace(settings, data_dir=Path(tmp),
                        search=replace(settings.search, max_size=max(k, 1)))
        backend = (backend_factory or create_backend)(local)
        try:
            backend.upsert(corpus_records(corpus), batch_size=1000)
            run_path.parent.mkdir(parents=True, exist_ok=True)
            scores: list[tuple[float, float, float]] = []
            times: list[float] = []
            items = query_list
            if progress:
                from tqdm import tqdm

                items = tqdm(query_list, desc="queries", unit="q")
            with run_path.open("w", encoding="utf-8") as out:
                for q in items:
                    text = transform(str(q["text"])) if transform else str(q["text"])
                    started = time.perf_counter()
                    result = backend.search(SearchRequest(
                        query=text, size=k, facets=(), mode=mode, snippets=False))
                    times.append((time.perf_counter() - started) * 1000)
                    ranked = [h.record_id for h in result.hits]
                    for rank, hit in enumerate(result.hits, start=1):
                        out.write(f"{q['id']} Q0 {hit.record_id} {rank} {hit.score:.6f} {tag}\n")
                    judged = judgments[str(q["id"])]
                    scores.append((ndcg_at(ranked, judged), recall_at(ranked, judged, k),
                                   mrr_at(ranked, judged)))
        finally:
            backend.close()
    n = len(scores)
    times.sort()
    return Metrics(
        ndcg10=sum(s[0] for s in scores) / n, recall100=sum(s[1] for s in scores) / n,
        mrr10=sum(s[2] for s in scores) / n, queries=n, mean_ms=sum(times) / n,
        p95_ms=times[min(n - 1, int(0.95 * n))],
    )
