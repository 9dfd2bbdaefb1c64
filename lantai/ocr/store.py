"""The output folder: page files, the completion journal (cache) and the report.

Layout::

    OUT/<record>/<stem>.txt         plain text in reading order
    OUT/<record>/<stem>.alto.xml    ALTO v4
    OUT/<record>/<stem>.json        the OcrPage
    OUT/_state/journal.jsonl        one line per finished page: cache key, files, warning
    OUT/report.json                 pages done/cached/failed and each failure (item, stage, reason)

Crash safety: every file is written to a temporary name in the same folder and moved into place
with ``os.replace`` (atomic on POSIX and Windows), and a page is journalled only after its three
files are in place. After ``kill -9`` a page is either journalled with complete files, or not
journalled and redone; a torn last journal line is ignored.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lantai.ocr.alto import to_alto
from lantai.ocr.model import OcrPage
from lantai.ocr.sources import UNLINKED, safe_name

STATE_DIR = "_state"
JOURNAL = "journal.jsonl"
SUFFIXES = (".txt", ".alto.xml", ".json")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class JournalEntry:
    """A finished page as recorded in the journal."""

    key: str
    item: str
    record: str
    stem: str
    warning: str | None = None


def _parse_journal(raw: str) -> Iterator[JournalEntry]:
    for line in raw.splitlines():
        try:
            data = json.loads(line)
            yield JournalEntry(
                data["key"], data["item"], data["record"], data["stem"], data.get("warning")
            )
        except (ValueError, KeyError, TypeError):
            continue  # a line torn by a crash: that page is simply redone


def read_journal(out_dir: Path) -> list[JournalEntry]:
    """Every journalled page of an output folder, oldest first (read only; a page OCRed
    again appears again, later)."""
    path = out_dir / STATE_DIR / JOURNAL
    if not path.is_file():
        return []
    return list(_parse_journal(path.read_text(encoding="utf-8")))


class OutputStore:
    """Writes pages and keeps the journal that makes reruns skip finished pages."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir
        self.state_dir = out_dir / STATE_DIR
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.journal_path = self.state_dir / JOURNAL
        self._done: dict[str, JournalEntry] = {}
        self._load()
        self._journal = open(self.journal_path, "a", encoding="utf-8")  # noqa: SIM115

    def _load(self) -> None:
        if not self.journal_path.exists():
            return
        raw = self.journal_path.read_text(encoding="utf-8")
        self._done.update((entry.key, entry) for entry in _parse_journal(raw))
        if raw and not raw.endswith("\n"):
            # finish a torn line so the next append starts on a line of its own
            with open(self.journal_path, "a", encoding="utf-8") as fh:
                fh.write("\n")

    def folder(self, record: str | None) -> Path:
        """Folder of one record's pages."""
        return self.out_dir / (safe_name(record) if record else UNLINKED)

    def lookup(self, key: str) -> JournalEntry | None:
        """The journal entry for ``key`` if the page is done and its files are still there."""
        entry = self._done.get(key)
        if entry is None:
            return None
        folder = self.out_dir / entry.record
        if all((folder / f"{entry.stem}{s}").exists() for s in SUFFIXES):
            return entry
        return None

    def write_page(
        self,
        key: str,
        item: str,
        record: str | None,
        stem: str,
        page: OcrPage,
        warning: str | None = None,
    ) -> JournalEntry:
        """Write the page's three files, then journal it."""
        folder = self.folder(record)
        atomic_write(folder / f"{stem}.txt", page.text + ("\n" if page.text else ""))
        atomic_write(folder / f"{stem}.alto.xml", to_alto(page))
        atomic_write(
            folder / f"{stem}.json", json.dumps(page.to_dict(), ensure_ascii=False, indent=1)
        )
        entry = JournalEntry(key, item, folder.name, stem, warning)
        self._journal.write(
            json.dumps(
                {"key": key, "item": item, "record": folder.name, "stem": stem, "warning": warning},
                ensure_ascii=False,
            )
            + "\n"
        )
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._done[key] = entry
        return entry

    def write_report(self, report: dict[str, Any]) -> None:
        """Write ``OUT/report.json``."""
        atomic_write(self.out_dir / "report.json", json.dumps(report, ensure_ascii=False, indent=1))

    def close(self) -> None:
        """Close the journal."""
        self._journal.close()
