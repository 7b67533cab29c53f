"""The server's one error type: an answer other than success, with LangGraph's status."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ("ApiError",)


class ApiError(Exception):
    """``status`` (404, 409, 422, ...) and a ``detail`` that names what is wrong
    (``headers``: sent with the answer, e.g. an auth handler's ``WWW-Authenticate``)."""

    def __init__(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
