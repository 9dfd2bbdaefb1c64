"""Staff roles and what each may do: the one permission table every check reads."""

from __future__ import annotations

from enum import StrEnum

from lantai.errors import BadQueryError


class Role(StrEnum):
    REVIEWER = "reviewer"  # 开放审核: sees every record, decides what opens
    CURATOR = "curator"  # theme collections: builds, curates and publishes exhibits
    ADMIN = "admin"  # everything, and the staff accounts


class Permission(StrEnum):
    VIEW_UNOPENED = "view_unopened"  # see records that are not 开放 (marked as such)
    REVIEW = "review"  # record open-review decisions
    CURATE = "curate"  # edit and publish theme collections
    MANAGE_USERS = "manage_users"  # accounts, roles, lockouts; read the audit log


#: Who may do what. Every staff route and every state-changing call asks :func:`allowed`.
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REVIEWER: frozenset({Permission.VIEW_UNOPENED, Permission.REVIEW}),
    Role.CURATOR: frozenset({Permission.VIEW_UNOPENED, Permission.CURATE}),
    Role.ADMIN: frozenset(Permission),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


def parse_role(text: str, param: str = "role") -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise BadQueryError(f"unknown role {text!r}: choose {', '.join(r.value for r in Role)}",
                            param) from None
