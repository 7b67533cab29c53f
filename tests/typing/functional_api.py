"""User-style functional API: typed @task (sync and async) and @entrypoint."""

from __future__ import annotations

from typing import TypedDict

from typing_extensions import assert_type

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.func import entrypoint, task
from actorgraph.runtime import Runtime


class Ctx(TypedDict):
    factor: int


@task
def double(x: int) -> int:
    return x * 2


@task(name="triple")
async def triple(x: int) -> int:
    return x * 3


@entrypoint(checkpointer=InMemorySaver(), context_schema=Ctx)
def workflow(n: int, runtime: Runtime[Ctx]) -> int:
    doubled = double(n).result()
    assert_type(doubled, int)
    return doubled * runtime.context["factor"]


@entrypoint()
async def async_workflow(n: int) -> int:
    tripled = await triple(n)
    assert_type(tripled, int)
    return tripled


assert workflow.invoke(3, {"configurable": {"thread_id": "f"}}, context={"factor": 10}) == 60
