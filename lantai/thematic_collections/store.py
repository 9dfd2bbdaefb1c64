"""A theme's curation (the draft) and its published versions, with every change logged, in
``<data_dir>/collections.sqlite3``.

The draft holds the records a curator accepted, their order, the pinned ones, notes in Chinese
and English and a timeline date, and the theme's introduction. Publishing freezes the draft as
version n: a version is never changed again (the public cites it as ``?v=n``). What the public
sees of a version is filtered when it is shown: a record that stops being 开放 leaves every
public theme at once, pinned or not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lantai.errors import BadQueryError, NotFound
from lantai.sqlite_state import SqliteState

DB_FILE = "collections.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    slug TEXT NOT NULL,
    archival_code TEXT NOT NULL,
    state TEXT NOT NULL,            -- accepted | excluded
    pinned INTEGER NOT NULL DEFAULT 0,
    position REAL NOT NULL,
    note_zh TEXT NOT NULL DEFAULT '',
    note_en TEXT NOT NULL DEFAULT '',
    timeline TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (slug, archival_code)
);
CREATE TABLE IF NOT EXISTS intros (
    slug TEXT PRIMARY KEY,
    intro_zh TEXT NOT NULL,
    intro_en TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    slug TEXT NOT NULL,
    version INTEGER NOT NULL,
    published REAL NOT NULL,
    actor TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (slug, version)
);
CREATE TRIGGER IF NOT EXISTS versions_frozen BEFORE UPDATE ON versions
    BEGIN SELECT RAISE(ABORT, 'a published version is never changed'); END;
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    archival_code TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Item:
    archival_code: str
    pinned: bool = False
    note_zh: str = ""
    note_en: str = ""
    timeline: str = ""  # a date shown on the timeline (ISO, or a year), when not the record's


@dataclass(frozen=True)
class Version:
    slug: str
    version: int
    published: float
    actor: str
    intro_zh: str
    intro_en: str
    items: tuple[Item, ...] = field(default=())


class CollectionStore(SqliteState):
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        super().__init__(path, _SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> CollectionStore:
        return cls(Path(data_dir) / DB_FILE)

    def _change(self, conn: Any, slug: str, actor: str, action: str, code: str = "",
                detail: dict[str, Any] | None = None) -> None:
        conn.execute("INSERT INTO changes (slug, time, actor, action, archival_code, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (slug, self.clock(), actor, action, code,
                                                   json.dumps(detail or {}, ensure_ascii=False)))

    # -- the draft ---------------------------------------------------------------------------
    def draft(self, slug: str) -> list[Item]:
        """The accepted records in order (pinned first)."""
        rows = self._conn().execute(
            "SELECT archival_code, pinned, note_zh, note_en, timeline FROM items WHERE slug = ? "
            "AND state = 'accepted' ORDER BY pinned DESC, position, archival_code", (slug,))
        return [Item(r[0], bool(r[1]), r[2], r[3], r[4]) for r in rows]

    def decided(self, slug: str) -> dict[str, str]:
        """档号 → accepted | excluded: what the curator has already seen."""
        return dict(self._conn().execute(
            "SELECT archival_code, state FROM items WHERE slug = ?", (slug,)).fetchall())

    def accept(self, slug: str, codes: list[str], actor: str) -> None:
        with self._tx() as conn:
            last = conn.execute("SELECT coalesce(max(position), 0) FROM items WHERE slug = ?",
                                (slug,)).fetchone()[0]
            for offset, code in enumerate(codes, start=1):
                conn.execute("INSERT INTO items (slug, archival_code, state, position) VALUES "
                             "(?, ?, 'accepted', ?) ON CONFLICT (slug, archival_code) DO UPDATE "
                             "SET state = 'accepted'", (slug, code, last + offset))
                self._change(conn, slug, actor, "accept", code)

    def exclude(self, slug: str, code: str, actor: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO items (slug, archival_code, state, position) VALUES "
                         "(?, ?, 'excluded', 0) ON CONFLICT (slug, archival_code) DO UPDATE "
                         "SET state = 'excluded', pinned = 0", (slug, code))
            self._change(conn, slug, actor, "exclude", code)

    def _accepted(self, conn: Any, slug: str, code: str) -> None:
        if conn.execute("SELECT 1 FROM items WHERE slug = ? AND archival_code = ? AND "
                        "state = 'accepted'", (slug, code)).fetchone() is None:
            raise NotFound(f"{code} is not in the draft of {slug} (accept it first)")

    def pin(self, slug: str, code: str, pinned: bool, actor: str) -> None:
        with self._tx() as conn:
            self._accepted(conn, slug, code)
            conn.execute("UPDATE items SET pinned = ? WHERE slug = ? AND archival_code = ?",
                         (int(pinned), slug, code))
            self._change(conn, slug, actor, "pin" if pinned else "unpin", code)

    def move(self, slug: str, code: str, position: int, actor: str) -> None:
        """Put ``code`` at 1-based ``position`` among the accepted records."""
        order = [i.archival_code for i in self.draft(slug)]
        if code not in order:
            raise NotFound(f"{code} is not in the draft of {slug} (accept it first)")
        if not 1 <= position <= len(order):
            raise BadQueryError(f"position must be 1 to {len(order)}", "position")
        order.remove(code)
        order.insert(position - 1, code)
        with self._tx() as conn:
            conn.executemany("UPDATE items SET position = ? WHERE slug = ? AND archival_code = ?",
                             [(n, slug, c) for n, c in enumerate(order, start=1)])
            self._change(conn, slug, actor, "move", code, {"position": position})

    def annotate(self, slug: str, code: str, actor: str, *, note_zh: str | None = None,
                 note_en: str | None = None, timeline: str | None = None) -> None:
        with self._tx() as conn:
            self._accepted(conn, slug, code)
            for column, value in (("note_zh", note_zh), ("note_en", note_en),
                                  ("timeline", timeline)):
                if value is not None:
                    conn.execute(f"UPDATE items SET {column} = ? WHERE slug = ? AND "
                                 "archival_code = ?", (value.strip(), slug, code))
            self._change(conn, slug, actor, "annotate", code,
                         {"note_zh": note_zh, "note_en": note_en, "timeline": timeline})

    def set_intro(self, slug: str, intro_zh: str, intro_en: str, actor: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO intros (slug, intro_zh, intro_en) VALUES "
                         "(?, ?, ?)", (slug, intro_zh.strip(), intro_en.strip()))
            self._change(conn, slug, actor, "intro")

    def intro(self, slug: str) -> tuple[str, str] | None:
        row = self._conn().execute("SELECT intro_zh, intro_en FROM intros WHERE slug = ?",
                                   (slug,)).fetchone()
        return (row[0], row[1]) if row else None

    # -- versions ----------------------------------------------------------------------------
    def publish(self, slug: str, intro: tuple[str, str], actor: str) -> Version:
        """Freeze the draft as the next version."""
        items = self.draft(slug)
        if not items:
            raise BadQueryError(f"the draft of {slug} is empty: accept records first", "slug")
        with self._tx() as conn:
            number = conn.execute("SELECT coalesce(max(version), 0) + 1 FROM versions WHERE "
                                  "slug = ?", (slug,)).fetchone()[0]
            content = {"intro_zh": intro[0], "intro_en": intro[1],
                       "items": [asdict(i) for i in items]}
            conn.execute("INSERT INTO versions (slug, version, published, actor, content) "
                         "VALUES (?, ?, ?, ?, ?)", (slug, number, self.clock(), actor,
                                                     json.dumps(content, ensure_ascii=False)))
            self._change(conn, slug, actor, "publish", "", {"version": number})
        found = self.version(slug, number)
        assert found is not None
        return found

    def version(self, slug: str, number: int | None = None) -> Version | None:
        """A published version (the latest when ``number`` is None)."""
        sql = "SELECT slug, version, published, actor, content FROM versions WHERE slug = ?"
        args: list[Any] = [slug]
        if number is None:
            sql += " ORDER BY version DESC LIMIT 1"
        else:
            sql += " AND version = ?"
            args.append(number)
        row = self._conn().execute(sql, args).fetchone()
        if row is None:
            return None
        content = json.loads(row[4])
        return Version(row[0], row[1], row[2], row[3], content["intro_zh"], content["intro_en"],
                       tuple(Item(**i) for i in content["items"]))

    def published_slugs(self) -> list[str]:
        return [r[0] for r in self._conn().execute(
            "SELECT DISTINCT slug FROM versions ORDER BY slug")]

    def changes(self, slug: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT time, actor, action, archival_code, detail FROM changes WHERE slug = ? "
            "ORDER BY id DESC LIMIT ?", (slug, limit))
        return [{"time": r[0], "actor": r[1], "action": r[2], "archival_code": r[3],
                 "detail": json.loads(r[4])} for r in rows]
