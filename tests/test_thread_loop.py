"""The event loop a thread keeps for its sync calls (``actors/_loops.py``): a call that never
waits finishes in its first step, one that waits goes on in the loop, and a call made while
another loop runs in the thread is refused as asyncio refuses it, leaving that loop running."""

from __future__ import annotations

import asyncio

import pytest

from actorgraph.actors._loops import ThreadLoop


async def _at_once() -> str:
    assert asyncio.current_task() is not None  # it runs as a task, on its loop
    return "done"


async def _waits() -> str:
    await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    return "waited"


async def _fails() -> None:
    raise ValueError("boom")


def test_calls_that_wait_or_not_give_their_result_and_errors() -> None:
    runner = ThreadLoop()
    try:
        assert runner.run(_at_once()) == "done"
        assert runner.run(_waits()) == "waited"
        with pytest.raises(ValueError, match="boom"):
            runner.run(_fails())
        assert runner.run(_at_once()) == "done"  # the loop is still fine after a failure
        with pytest.raises(RuntimeError):
            asyncio.get_running_loop()  # and no loop is left marked running here
    finally:
        runner.close()


def test_a_call_while_another_loop_runs_here_is_refused_and_that_loop_keeps_running() -> None:
    runner = ThreadLoop()

    async def outer() -> None:
        mine = asyncio.get_running_loop()
        coro = _at_once()
        with pytest.raises(RuntimeError, match="another loop is running"):
            runner.run(coro)
        coro.close()
        assert asyncio.get_running_loop() is mine
        await asyncio.sleep(0)

    try:
        asyncio.run(outer())
    finally:
        runner.close()
