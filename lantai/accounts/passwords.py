"""Password hashing (argon2id through ``argon2-cffi``) and the password rules.

Hashes are PHC strings (``$argon2id$v=19$m=…,t=…,p=…$salt$hash``): parameters travel with each
hash, so raising them later rehashes each account at its next sign-in. A password is never
stored, logged or written to the audit log; only its hash reaches the database.
"""

from __future__ import annotations

from typing import Any

from lantai.errors import BadQueryError, require

MIN_LENGTH = 10
MAX_LENGTH = 1024

_hasher: Any = None


def hasher() -> Any:
    """The argon2id hasher (argon2-cffi's RFC 9106 low-memory profile: 64 MiB, t=3, p=4)."""
    global _hasher
    if _hasher is None:
        argon2: Any = require("argon2", "all", "staff passwords")
        _hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.RFC_9106_LOW_MEMORY)
    return _hasher


def check_rules(password: str, username: str) -> None:
    """Refuse a password that is too short, too long or the user's own name."""
    if len(password) < MIN_LENGTH:
        raise BadQueryError(f"a password needs at least {MIN_LENGTH} characters", "password")
    if len(password) > MAX_LENGTH:
        raise BadQueryError(f"a password may have at most {MAX_LENGTH} characters", "password")
    if password.strip().lower() == username.strip().lower():
        raise BadQueryError("a password must not be the user name", "password")


def hash_password(password: str) -> str:
    return str(hasher().hash(password))


def verify(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant time in the library)."""
    argon2: Any = require("argon2", "all", "staff passwords")
    try:
        return bool(hasher().verify(stored, password))
    except (argon2.exceptions.VerifyMismatchError, argon2.exceptions.InvalidHashError,
            argon2.exceptions.VerificationError):
        return False


def needs_rehash(stored: str) -> bool:
    return bool(hasher().check_needs_rehash(stored))


#: Verified against for unknown user names, so they take as long as known ones.
_DUMMY: str | None = None


def burn_time(password: str) -> None:
    """Spend the time a real verification takes (no user has this name)."""
    global _DUMMY
    if _DUMMY is None:
        _DUMMY = hash_password("lantai-no-such-user-placeholder")
    verify(_DUMMY, password)
