"""An idle server's workers look for runs only when woken (or, on a shared database, once
per poll period): never in a loop. Driven on the run manager with a real SQLite storage,
counting the claims it makes while nothing is queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from actorgraph.server._context import ServerContext
from actorgraph.server.broker import InProcessBroker
from actorgraph.server.runs import RunManager
from actorgraph.server.storage import SqliteStorage

pytestmark = pytest.mark.anyio


class _CountingStorage(SqliteStorage):
    claims = 0

    async def run_claim(self, owner: str, lease_until: float, now: float) -> Any:
        self.claims += 1
        return await super().run_claim(owner, lease_until, now)


class _PollingBroker(InProcessBroker):
    """The in-process broker as a shared one looks to the run manager: other processes'
    wake-ups may be lost, so idle workers look again every ``poll_seconds``."""

    shared = True

    @property
    def poll_seconds(self) -> float:
        return 0.2


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.parametrize("shared", [False, True], ids=["embedded", "shared"])
async def test_idle_workers_claim_once_per_wake_up_or_poll(tmp_path: Path, shared: bool) -> None:
    storage = _CountingStorage(tmp_path / "db.sqlite")
    await storage.setup()
    try:
        c = ServerContext(None, storage, None)  # type: ignore[arg-type]  # no run is made
        manager = RunManager(c, n_jobs=3, broker=_PollingBroker() if shared else InProcessBroker())
        async with manager.running():
            await anyio.sleep(1.0)
            idle = storage.claims
            manager.wake()
            await anyio.sleep(0.2)
    finally:
        await storage.close()
    if shared:
        assert 1 <= idle <= 1 + 1.0 / 0.2 + 2, idle  # one look per poll period
    else:
        assert idle == 1, idle  # one look, then asleep until woken
        assert storage.claims == 2  # a wake-up: one look, not one per idle worker
