"""The server's one error type: an answer other than success, with LangGraph's status."""

from __future__ import annotations

__all__ = ("ApiError",)


class ApiError(Exception):
    """``status`` (404, 409, 422, ...) and a ``detail`` that names what is wrong."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
