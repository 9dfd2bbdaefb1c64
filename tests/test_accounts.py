"""Staff accounts: passwords, sign-in limits, lockout, sessions and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest

from lantai.accounts import passwords
from lantai.accounts.roles import PERMISSIONS, Permission, Role, allowed, parse_role
from lantai.accounts.store import (
    ACCOUNT_FREE,
    ACCOUNT_LOCK,
    ADDRESS_FREE,
    ADDRESS_WINDOW,
    AccountStore,
    Outcome,
)
from lantai.errors import BadQueryError, Conflict, NotFound
from tests.conftest import FakeClock

PASSWORD = "长城 correct horse 1937"


pytestmark = pytest.mark.usefixtures("cheap_passwords")


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> AccountStore:
    accounts = AccountStore(tmp_path / "accounts.sqlite3", idle_seconds=1800,
                            absolute_seconds=8 * 3600, clock=clock)
    accounts.add_user("wang", Role.REVIEWER, PASSWORD)
    return accounts


def test_the_default_hash_is_argon2id_with_the_rfc_9106_parameters(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", None)
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD) and not passwords.verify(stored, PASSWORD + "x")


def test_password_rules_and_names(store: AccountStore) -> None:
    for bad in ("short", "wang-li", "x" * 2000):
        with pytest.raises(BadQueryError):
            store.add_user("wang-li", Role.CURATOR, bad)
    with pytest.raises(BadQueryError):
        store.add_user("two words", Role.CURATOR, PASSWORD)
    with pytest.raises(Conflict):
        store.add_user("WANG", Role.ADMIN, PASSWORD)  # names are case-insensitive
    with pytest.raises(NotFound):
        store.user("nobody")
    with pytest.raises(BadQueryError):
        parse_role("boss")


def test_the_permission_table() -> None:
    assert allowed(Role.ADMIN, Permission.MANAGE_USERS)
    assert not allowed(Role.REVIEWER, Permission.MANAGE_USERS)
    assert not allowed(Role.CURATOR, Permission.REVIEW)
    assert not allowed(Role.REVIEWER, Permission.CURATE)
    assert all(Permission.VIEW_UNOPENED in PERMISSIONS[r] for r in Role)


def test_sign_in_opens_a_session_that_ends(store: AccountStore, clock: FakeClock) -> None:
    result = store.sign_in("Wang", PASSWORD, "10.0.0.1")
    assert result.outcome is Outcome.OK and result.user and result.user.name == "wang"
    assert store.session_user(result.token).name == "wang"  # type: ignore[union-attr]
    clock.now += 1799
    assert store.session_user(result.token) is not None  # used: the idle clock restarts
    clock.now += 1801
    assert store.session_user(result.token) is None  # idle too long
    # absolute limit, however busy the session is
    again = store.sign_in("wang", PASSWORD, "10.0.0.1").token
    for _ in range(16):  # 16 × 1700 s < 8 h
        clock.now += 1700
        assert store.session_user(again) is not None
    clock.now += 1700
    assert store.session_user(again) is None
    third = store.sign_in("wang", PASSWORD, "10.0.0.1").token
    store.sign_out(third, "10.0.0.1")
    assert store.session_user(third) is None
    assert store.session_user("made-up") is None


def test_role_change_disable_and_reset_end_sessions(store: AccountStore) -> None:
    for change in (lambda: store.set_role("wang", Role.CURATOR),
                   lambda: store.set_disabled("wang", True),
                   lambda: store.reset_password("wang", PASSWORD + "!")):
        store.set_disabled("wang", False)
        store.reset_password("wang", PASSWORD)
        token = store.sign_in("wang", PASSWORD, "a").token
        change()
        assert store.session_user(token) is None
    store.reset_password("wang", PASSWORD)
    store.set_disabled("wang", True)
    assert store.sign_in("wang", PASSWORD, "a").outcome is Outcome.DISABLED


def test_failures_slow_an_account_down_then_lock_it(store: AccountStore, clock: FakeClock) -> None:
    for _ in range(ACCOUNT_FREE):
        assert store.sign_in("wang", "wrong password", "a").outcome is Outcome.BAD
    # from now on each try must wait 2^n s after the last failure, or it is refused unchecked
    refused = store.sign_in("wang", PASSWORD, "b")
    assert refused.outcome is Outcome.THROTTLED and refused.retry_after == 1
    clock.now += 1
    assert store.sign_in("wang", "wrong password", "c").outcome is Outcome.BAD
    refused = store.sign_in("wang", PASSWORD, "c")
    assert refused.outcome is Outcome.THROTTLED and refused.retry_after == 2
    failures = ACCOUNT_FREE + 1
    while failures < ACCOUNT_LOCK - 1:
        clock.now += 2 ** (failures - ACCOUNT_FREE)
        assert store.sign_in("wang", "wrong password", "d").outcome is Outcome.BAD
        failures += 1
    clock.now += 2 ** (failures - ACCOUNT_FREE)
    assert store.sign_in("wang", "wrong password", "e").outcome is Outcome.LOCKED
    clock.now += 10 ** 6
    assert store.sign_in("wang", PASSWORD, "f").outcome is Outcome.LOCKED  # even when right
    assert store.user("wang").locked
    store.unlock("wang", actor="admin")
    assert store.sign_in("wang", PASSWORD, "g").outcome is Outcome.OK


def test_one_address_guessing_many_names_is_slowed(store: AccountStore, clock: FakeClock) -> None:
    for i in range(ADDRESS_FREE):
        assert store.sign_in(f"user{i}", "guess guess guess", "6.6.6.6").outcome is Outcome.BAD
    refused = store.sign_in("wang", PASSWORD, "6.6.6.6")
    assert refused.outcome is Outcome.THROTTLED and refused.retry_after == 1
    assert store.sign_in("wang", PASSWORD, "10.0.0.9").outcome is Outcome.OK  # others may
    clock.now += ADDRESS_WINDOW + 1  # a quiet window empties the count
    assert store.sign_in("wang", PASSWORD, "6.6.6.6").outcome is Outcome.OK


def test_unknown_names_answer_like_wrong_passwords(store: AccountStore) -> None:
    assert store.sign_in("nobody", PASSWORD, "a").outcome is Outcome.BAD
    assert store.sign_in("wang", "not the password", "a").outcome is Outcome.BAD


def test_the_audit_log_names_every_event_and_never_a_password(store: AccountStore) -> None:
    store.sign_in("wang", "hunter2 wrong guess", "10.1.1.1")
    token = store.sign_in("wang", PASSWORD, "10.1.1.1").token
    store.sign_out(token, "10.1.1.1")
    store.sign_in(PASSWORD, PASSWORD, "10.1.1.2")  # a password typed into the name field
    store.set_role("wang", Role.ADMIN, actor="li", address="10.1.1.3")
    store.unlock("wang", actor="li")
    entries = store.audit_log()
    actions = [e.action for e in reversed(entries)]
    assert actions == ["user.add", "login.failure", "login.success", "logout", "login.failure",
                       "user.role", "user.unlock"]
    assert entries[1].target == "wang" and entries[1].detail == "reviewer->admin"
    assert entries[1].actor == "li" and entries[1].address == "10.1.1.3"
    files = [store.path, *store.path.parent.glob(store.path.name + "-*")]  # WAL too
    text = repr(entries) + "".join(f.read_bytes().decode("utf-8", "replace") for f in files)
    assert PASSWORD not in text and "hunter2" not in text
