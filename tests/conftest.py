"""Shared fixtures: engine tests marked ``@pytest.mark.anyio`` run on asyncio and trio."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param


IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(name: str, reachable: bool) -> None:
    """Skip when a local service is down on a laptop; fail (never skip) in CI."""
    if reachable:
        return
    if IN_CI:
        pytest.fail(f"{name} is not reachable, and CI=true requires it")
    pytest.skip(f"{name} is not reachable")
