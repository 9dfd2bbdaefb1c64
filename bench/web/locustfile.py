"""Locust users of the public front end: the search page, record pages and the JSON API.

Queries and 档号 come from files written by ``bench/web/run.py`` (``LANTAI_BENCH_DIR``)."""

from __future__ import annotations

import os
import random
from pathlib import Path
from urllib.parse import quote

from locust import HttpUser, between, task

FOLDER = Path(os.environ.get("LANTAI_BENCH_DIR", "."))
QUERIES = (FOLDER / "queries.txt").read_text(encoding="utf-8").splitlines()
CODES = (FOLDER / "codes.txt").read_text(encoding="utf-8").splitlines()


class Historian(HttpUser):
    wait_time = between(0.5, 1.5)  # think time between pages

    @task(5)
    def search_page(self) -> None:
        self.client.get("/search", params={"q": random.choice(QUERIES)}, name="search page")

    @task(3)
    def record_page(self) -> None:
        self.client.get("/records/" + quote(random.choice(CODES)), name="record page")

    @task(2)
    def api_search(self) -> None:
        self.client.get("/api/v1/search", params={"q": random.choice(QUERIES)},
                        name="api search")
