"""Staff accounts, sessions, sign-in limits and the audit log, in the archive's own SQLite
database beside the index (``<data_dir>/accounts.sqlite3``), whichever search backend runs.

Sign-in limits (docs/security.md):

* **per account** — after :data:`ACCOUNT_FREE` failed sign-ins in a row, each further try must
  wait 2ⁿ seconds (1, 2, 4 … after the last failure) and is refused unchecked before that; at
  :data:`ACCOUNT_LOCK` failures the account is locked until an administrator unlocks it. A
  successful sign-in resets the count. Unknown names are counted the same way, so the answers
  never tell which names exist.
* **per address** — :data:`ADDRESS_FREE` failures within :data:`ADDRESS_WINDOW` seconds from
  one address (guessing across many accounts) make every further try from it wait a growing
  delay (2ⁿ seconds, at most :data:`ADDRESS_WINDOW`); the count empties after a quiet window.

Sessions are random tokens; only their SHA-256 is stored. A session ends after
``staff.idle_minutes`` unused or ``staff.absolute_hours`` after sign-in, at sign-out, and when
the account is disabled, its password reset or its role changed.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from lantai.accounts import passwords
from lantai.accounts.roles import Role
from lantai.errors import BadQueryError, Conflict, NotFound
from lantai.sqlite_state import SqliteState

DB_FILE = "accounts.sqlite3"
ACCOUNT_FREE = 3
ACCOUNT_LOCK = 10
ADDRESS_FREE = 20
ADDRESS_WINDOW = 15 * 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL,
    password TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL COLLATE NOCASE,
    created REAL NOT NULL,
    seen REAL NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_name ON sessions(name);
CREATE TABLE IF NOT EXISTS attempts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last REAL NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    disabled: bool
    locked: bool
    created: float


class Outcome(StrEnum):
    OK = "ok"
    BAD = "bad"  # wrong name or password (one answer for both)
    DISABLED = "disabled"
    LOCKED = "locked"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    user: User | None = None
    token: str = ""  # the new session's token when OK
    retry_after: int = 0  # seconds, when THROTTLED


@dataclass(frozen=True)
class AuditEntry:
    time: float
    actor: str
    action: str
    target: str
    address: str
    detail: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > 64 or any(ch.isspace() or ord(ch) < 32 for ch in name):
        raise BadQueryError("a user name is 1–64 characters without spaces", "username")
    return name


class AccountStore(SqliteState):
    """One archive's staff accounts. Safe to share between threads."""

    def __init__(self, path: Path, *, idle_seconds: float = 30 * 60,
                 absolute_seconds: float = 8 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds
        self.clock = clock
        super().__init__(path, _SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kwargs: object) -> AccountStore:
        return cls(Path(data_dir) / DB_FILE, **kwargs)  # type: ignore[arg-type]


    # -- accounts ----------------------------------------------------------------------------
    def add_user(self, name: str, role: Role, password: str, *, actor: str = "cli",
                 address: str = "") -> User:
        name = _name(name)
        passwords.check_rules(password, name)
        hashed = passwords.hash_password(password)
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"user {name} already exists")
            conn.execute("INSERT INTO users (name, role, password, created) VALUES (?, ?, ?, ?)",
                         (name, role.value, hashed, self.clock()))
            self._audit(conn, actor, "user.add", name, address, f"role={role.value}")
        return self.user(name)

    def user(self, name: str) -> User:
        row = self._conn().execute(
            "SELECT name, role, disabled, locked, created FROM users WHERE name = ?",
            (name.strip(),)).fetchone()
        if row is None:
            raise NotFound(f"no user {name}")
        return User(row[0], Role(row[1]), bool(row[2]), bool(row[3]), row[4])

    def users(self) -> list[User]:
        rows = self._conn().execute(
            "SELECT name, role, disabled, locked, created FROM users ORDER BY name").fetchall()
        return [User(r[0], Role(r[1]), bool(r[2]), bool(r[3]), r[4]) for r in rows]

    def set_role(self, name: str, role: Role, *, actor: str = "cli", address: str = "") -> User:
        before = self.user(name)
        with self._tx() as conn:
            conn.execute("UPDATE users SET role = ? WHERE name = ?", (role.value, before.name))
            conn.execute("DELETE FROM sessions WHERE name = ?", (before.name,))
            self._audit(conn, actor, "user.role", before.name, address,
                        f"{before.role.value}->{role.value}")
        return self.user(name)

    def set_disabled(self, name: str, disabled: bool, *, actor: str = "cli",
                     address: str = "") -> User:
        user = self.user(name)
        with self._tx() as conn:
            conn.execute("UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), user.name))
            if disabled:
                conn.execute("DELETE FROM sessions WHERE name = ?", (user.name,))
            self._audit(conn, actor, "user.disable" if disabled else "user.enable", user.name,
                        address, "")
        return self.user(name)

    def reset_password(self, name: str, password: str, *, actor: str = "cli",
                       address: str = "") -> None:
        user = self.user(name)
        passwords.check_rules(password, user.name)
        hashed = passwords.hash_password(password)
        with self._tx() as conn:
            conn.execute("UPDATE users SET password = ? WHERE name = ?", (hashed, user.name))
            conn.execute("DELETE FROM sessions WHERE name = ?", (user.name,))
            self._audit(conn, actor, "user.password", user.name, address, "reset")

    def unlock(self, name: str, *, actor: str = "cli", address: str = "") -> User:
        user = self.user(name)
        with self._tx() as conn:
            conn.execute("UPDATE users SET locked = 0 WHERE name = ?", (user.name,))
            conn.execute("DELETE FROM attempts WHERE kind = 'account' AND key = ?",
                         (hashlib.sha256(user.name.lower().encode()).hexdigest(),))
            self._audit(conn, actor, "user.unlock", user.name, address, "")
        return self.user(name)

    # -- sign-in -----------------------------------------------------------------------------
    def _wait(self, conn: sqlite3.Connection, kind: str, key: str, now: float) -> int:
        row = conn.execute("SELECT failures, last FROM attempts WHERE kind = ? AND key = ?",
                           (kind, key)).fetchone()
        if row is None:
            return 0
        failures, last = row
        if kind == "address":
            if now - last > ADDRESS_WINDOW:
                return 0
            over = failures - ADDRESS_FREE
            delay = min(2.0 ** over, ADDRESS_WINDOW) if over >= 0 else 0.0
        else:
            over = failures - ACCOUNT_FREE
            delay = 2.0 ** over if over >= 0 else 0.0
        left = last + delay - now
        return max(1, int(left + 0.999)) if left > 0 else 0

    def _fail(self, conn: sqlite3.Connection, kind: str, key: str, now: float) -> int:
        row = conn.execute("SELECT failures, last FROM attempts WHERE kind = ? AND key = ?",
                           (kind, key)).fetchone()
        failures = 1
        if row is not None:
            failures = row[0] + 1
            if kind == "address" and now - row[1] > ADDRESS_WINDOW:
                failures = 1
        conn.execute("INSERT OR REPLACE INTO attempts (kind, key, failures, last) "
                     "VALUES (?, ?, ?, ?)", (kind, key, failures, now))
        return failures

    def sign_in(self, name: str, password: str, address: str) -> SignIn:
        """Check a sign-in under the limits; on success open a session (its token is in the
        result). Every outcome is written to the audit log, never the password."""
        now = self.clock()
        # counted by a digest of the name: a password typed into the name field is not kept
        key = hashlib.sha256(name.strip().lower().encode()).hexdigest()
        with self._tx() as conn:
            wait = max(self._wait(conn, "account", key, now),
                       self._wait(conn, "address", address, now))
            row = conn.execute("SELECT name, password, disabled, locked FROM users "
                               "WHERE name = ?", (name.strip(),)).fetchone()
            shown = row[0] if row else "(unknown name)"
            if row is not None and row[3]:
                self._audit(conn, shown, "login.locked", shown, address, "refused: locked")
                return SignIn(Outcome.LOCKED)
            if wait:
                self._audit(conn, shown, "login.throttled", shown, address,
                            f"refused: retry in {wait} s")
                return SignIn(Outcome.THROTTLED, retry_after=wait)
        # the slow hash runs outside the write transaction
        if row is None:
            passwords.burn_time(password)
        good = row is not None and passwords.verify(row[1], password)
        with self._tx() as conn:
            if not good:
                failures = self._fail(conn, "account", key, now)
                self._fail(conn, "address", address, now)
                self._audit(conn, shown, "login.failure", shown, address,
                            f"failures in a row: {failures}")
                if row is not None and failures >= ACCOUNT_LOCK:
                    conn.execute("UPDATE users SET locked = 1 WHERE name = ?", (row[0],))
                    self._audit(conn, shown, "user.lock", shown, address,
                                f"locked after {failures} failed sign-ins")
                    return SignIn(Outcome.LOCKED)
                return SignIn(Outcome.BAD)
            if row[2]:
                self._audit(conn, shown, "login.disabled", shown, address, "refused: disabled")
                return SignIn(Outcome.DISABLED)
            conn.execute("DELETE FROM attempts WHERE kind = 'account' AND key = ?", (key,))
            token = secrets.token_urlsafe(32)
            conn.execute("INSERT INTO sessions (token_hash, name, created, seen, address) "
                         "VALUES (?, ?, ?, ?, ?)", (_hash_token(token), row[0], now, now,
                                                     address))
            self._audit(conn, row[0], "login.success", row[0], address, "")
        if passwords.needs_rehash(row[1]):
            with self._tx() as conn:
                conn.execute("UPDATE users SET password = ? WHERE name = ?",
                             (passwords.hash_password(password), row[0]))
        return SignIn(Outcome.OK, self.user(row[0]), token)

    def session_user(self, token: str) -> User | None:
        """The signed-in user of a session token, or None (unknown, expired, or the account
        disabled or locked since); an expired session is deleted, a live one touched."""
        if not token:
            return None
        now = self.clock()
        digest = _hash_token(token)
        conn = self._conn()
        row = conn.execute("SELECT s.name, s.created, s.seen, u.disabled, u.locked FROM "
                           "sessions s JOIN users u ON u.name = s.name WHERE s.token_hash = ?",
                           (digest,)).fetchone()
        if row is None:
            return None
        name, created, seen, disabled, locked = row
        if (disabled or locked or now - seen > self.idle_seconds
                or now - created > self.absolute_seconds):
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))
            return None
        if now - seen > 30:  # one write a half-minute, not one a request
            conn.execute("UPDATE sessions SET seen = ? WHERE token_hash = ?", (now, digest))
        return self.user(name)

    def sign_out(self, token: str, address: str) -> None:
        digest = _hash_token(token)
        with self._tx() as conn:
            row = conn.execute("SELECT name FROM sessions WHERE token_hash = ?",
                               (digest,)).fetchone()
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (digest,))
            if row:
                self._audit(conn, row[0], "logout", row[0], address, "")

    # -- audit -------------------------------------------------------------------------------
    def _audit(self, conn: sqlite3.Connection, actor: str, action: str, target: str,
               address: str, detail: str) -> None:
        conn.execute("INSERT INTO audit (time, actor, action, target, address, detail) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     (self.clock(), actor, action, target, address, detail))

    def audit(self, actor: str, action: str, target: str, address: str = "",
              detail: str = "") -> None:
        """Write one audit entry (for actions outside this module)."""
        with self._tx() as conn:
            self._audit(conn, actor, action, target, address, detail)

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        rows = self._conn().execute(
            "SELECT time, actor, action, target, address, detail FROM audit "
            "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [AuditEntry(*r) for r in rows]
