"""The user an ``@auth.authenticate`` handler returns, made uniform: an :class:`AuthUser`
is a dict (so it travels in a run's config and into JSON as it is) that also answers
attribute access (``user.identity``), as LangGraph's server's user proxy does."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ("AuthUser", "normalize_auth_result", "user_from_config")


class AuthUser(dict[str, Any]):
    """``identity``, ``is_authenticated``, ``display_name`` and whatever else the
    authenticate handler returned about the user (``permissions`` among them)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the user has no attribute {name!r}") from None

    @property
    def identity(self) -> str:
        return str(self["identity"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self.get("is_authenticated", True))

    @property
    def display_name(self) -> str:
        return str(self.get("display_name", self.identity))

    @property
    def permissions(self) -> Sequence[str]:
        return list(self.get("permissions", ()))

    def dict(self) -> dict[str, Any]:
        return dict(self)

    @classmethod
    def of(cls, fields: Mapping[str, Any]) -> AuthUser:
        identity = fields["identity"]
        if not isinstance(identity, str):
            raise ValueError(f"the user's identity must be a string, got {type(identity).__name__}")
        return cls({"is_authenticated": True, "display_name": identity, **fields})


def _fields(user: Any) -> dict[str, Any]:
    """The user object's own fields, as its class exposes them."""
    if isinstance(user, Mapping):
        return dict(user)
    dump = getattr(user, "model_dump", None)
    if callable(dump):  # a pydantic model
        return dict(dump(mode="json"))
    as_dict = getattr(user, "dict", None)
    if callable(as_dict):
        return dict(as_dict())
    if dataclasses.is_dataclass(user) and not isinstance(user, type):
        return dataclasses.asdict(user)
    return {}


def _to_user(user: Any) -> AuthUser:
    if isinstance(user, str):
        return AuthUser.of({"identity": user})
    if isinstance(user, Mapping):
        if "identity" not in user:
            raise ValueError("a user given as a dict needs an 'identity' key")
        return AuthUser.of(user)
    identity = getattr(user, "identity", None)
    if identity is None:
        raise ValueError(
            f"the authenticate handler must return a user: a string identity, a dict with 'identity', "
            f"or an object with an identity attribute; got {type(user).__name__}"
        )
    fields = _fields(user)
    fields["identity"] = identity
    for name in ("is_authenticated", "display_name", "permissions"):
        if name not in fields and hasattr(user, name):
            fields[name] = getattr(user, name)
    return AuthUser.of(fields)


def normalize_auth_result(result: Any) -> tuple[AuthUser, list[str]]:
    """``(user, permissions)`` from what the authenticate handler returned: a user, or a
    ``(permissions, user)`` pair; permissions may also come with the user itself."""
    if isinstance(result, tuple):
        if len(result) != 2:
            raise ValueError(f"a tuple from the authenticate handler must be (permissions, user), got {len(result)} items")
        permissions, raw = result
        user = _to_user(raw)
    else:
        user = _to_user(result)
        permissions = user.get("permissions") or []
    if isinstance(permissions, str):
        permissions = [permissions]
    return user, [str(p) for p in permissions]


def user_from_config(value: Any) -> AuthUser | None:
    """The run's user back from its stored config (a plain dict after the database)."""
    if isinstance(value, AuthUser):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("identity"), str):
        return AuthUser.of(value)
    return None
