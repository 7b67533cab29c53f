"""``create_react_agent``: the model/tools loop, prompts, structured responses, hooks,
dynamic models, step limits, persistence, and its argument checks. The model is
LangChain's scripted fake chat model, taught to accept bound tools."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from actorgraph.checkpoint.memory import InMemorySaver
from actorgraph.prebuilt import ToolNode, create_react_agent
from actorgraph.prebuilt.chat_agent_executor import AgentState, AgentStatePydantic
from actorgraph.runtime import Runtime
from actorgraph.types import Command, interrupt
from actorgraph.warnings import LangGraphDeprecatedSinceV10

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def anyio_backend() -> str:
    # LangChain runs sync models and tools from async code with asyncio's executor
    return "asyncio"


class ScriptedModel(FakeMessagesListChatModel):
    """Answers with ``responses`` in turn (the last one again once they run out),
    records what it was asked, and accepts ``bind_tools``."""

    asked: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        self.asked.append(list(messages))
        return super()._generate(messages, stop, run_manager, **kwargs)

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        specs = [t if isinstance(t, dict) else convert_to_openai_tool(t) for t in tools]
        self.bound.extend(s.get("function", s).get("name", "?") for s in specs)
        return self.bind(tools=specs, **kwargs)


def _call(name: str, args: dict[str, Any] | None = None, id: str = "c1") -> ToolCall:
    return ToolCall(name=name, args=args or {}, id=id, type="tool_call")


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


@tool
def forecast(city: str) -> str:
    """Tomorrow's weather."""
    return f"rain in {city}"


def _texts(messages: list[BaseMessage]) -> list[tuple[str, str]]:
    return [(m.type, m.content) for m in messages]


# -- the loop --------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_agent_runs_the_tools_the_model_asks_for_until_it_answers(version: str) -> None:
    model = ScriptedModel(
        responses=[
            AIMessage("", id="a1", tool_calls=[_call("weather", {"city": "Oslo"}, "1"), _call("forecast", {"city": "Oslo"}, "2")]),
            AIMessage("Sunny now, rain tomorrow.", id="a2"),
        ]
    )
    agent = create_react_agent(model, [weather, forecast], version=version)
    out = agent.invoke({"messages": [HumanMessage("Oslo?", id="h")]})
    assert _texts(out["messages"]) == [
        ("human", "Oslo?"),
        ("ai", ""),
        ("tool", "sunny in Oslo"),
        ("tool", "rain in Oslo"),
        ("ai", "Sunny now, rain tomorrow."),
    ]
    assert model.bound == ["weather", "forecast"]
    assert _texts(model.asked[1][-2:]) == [("tool", "sunny in Oslo"), ("tool", "rain in Oslo")]


@pytest.mark.anyio
async def test_the_async_agent_gives_the_same_answer() -> None:
    model = ScriptedModel(responses=[AIMessage("", id="a1", tool_calls=[_call("weather", {"city": "Rome"})]), AIMessage("ok", id="a2")])
    out = await create_react_agent(model, [weather]).ainvoke({"messages": [("user", "Rome?")]})
    assert _texts(out["messages"])[2:] == [("tool", "sunny in Rome"), ("ai", "ok")]


def test_no_tools_is_the_model_alone_and_the_name_goes_on_its_messages() -> None:
    agent = create_react_agent(ScriptedModel(responses=[AIMessage("hello", id="a")]), [], name="greeter")
    assert set(agent.nodes) == {"__start__", "agent"}
    (_, reply) = agent.invoke({"messages": [("user", "hi")]})["messages"]
    assert (reply.content, reply.name) == ("hello", "greeter")


def test_a_return_direct_tool_ends_the_run_with_its_result() -> None:
    @tool(return_direct=True)
    def lookup(q: str) -> str:
        """Look something up."""
        return f"found {q}"

    model = ScriptedModel(responses=[AIMessage("", id="a1", tool_calls=[_call("lookup", {"q": "x"})]), AIMessage("unused", id="a2")])
    out = create_react_agent(model, [lookup]).invoke({"messages": [("user", "x?")]})
    assert out["messages"][-1].content == "found x"
    assert len(model.asked) == 1


def test_running_out_of_steps_answers_instead_of_calling_tools() -> None:
    model = ScriptedModel(responses=[AIMessage("", id="loop", tool_calls=[_call("weather", {"city": "Oslo"})])])
    # the model repeats its message (same id): the later answer replaces the earlier one
    out = create_react_agent(model, [weather]).invoke({"messages": [("user", "?")]}, {"recursion_limit": 4})
    assert _texts(out["messages"]) == [
        ("human", "?"),
        ("ai", "Sorry, need more steps to process this request."),
        ("tool", "sunny in Oslo"),
    ]
    assert out["messages"][1].id == "loop"


# -- prompts ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "prompt",
    ["Be brief.", SystemMessage("Be brief."), lambda s: [SystemMessage("Be brief."), *s["messages"]],
     RunnableLambda(lambda s: [SystemMessage("Be brief."), *s["messages"]])],
    ids=["str", "system_message", "callable", "runnable"],
)
def test_every_prompt_form_puts_the_system_message_first(prompt: Any) -> None:
    model = ScriptedModel(responses=[AIMessage("ok", id="a")])
    create_react_agent(model, [], prompt=prompt).invoke({"messages": [("user", "hi")]})
    assert _texts(model.asked[0]) == [("system", "Be brief."), ("human", "hi")]


@pytest.mark.anyio
async def test_async_prompt_with_config_and_store() -> None:
    from actorgraph.store.memory import InMemoryStore

    store = InMemoryStore()
    store.put(("users",), "u1", {"name": "Ada"})

    async def prompt(state: Any, config: Any, *, store: Any) -> list[BaseMessage]:
        name = store.get(("users",), config["configurable"]["user"]).value["name"]
        return [SystemMessage(f"User is {name}"), *state["messages"]]

    model = ScriptedModel(responses=[AIMessage("ok", id="a")])
    agent = create_react_agent(model, [weather], prompt=prompt, store=store)
    await agent.ainvoke({"messages": [("user", "hi")]}, {"configurable": {"user": "u1"}})
    assert model.asked[0][0].content == "User is Ada"


def test_a_prompt_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Got unexpected type for `prompt`"):
        create_react_agent(ScriptedModel(responses=[AIMessage("x")]), [], prompt=42)  # type: ignore[arg-type]


# -- structured response ---------------------------------------------------------------
class Weather(BaseModel):
    temperature: float


@pytest.mark.parametrize("response_format", [Weather, ("Answer in Celsius.", Weather)], ids=["schema", "prompt_and_schema"])
def test_response_format_fills_structured_response_after_the_loop(response_format: Any) -> None:
    model = ScriptedModel(
        responses=[
            AIMessage("", id="a1", tool_calls=[_call("weather", {"city": "Oslo"})]),
            AIMessage("It is 21 degrees.", id="a2"),
            AIMessage("", id="a3", tool_calls=[_call("Weather", {"temperature": 21})]),
        ]
    )
    out = create_react_agent(model, [weather], response_format=response_format).invoke({"messages": [("user", "?")]})
    assert out["structured_response"] == Weather(temperature=21)
    assert out["messages"][-1].content == "It is 21 degrees."
    asked_last = model.asked[-1]
    if isinstance(response_format, tuple):
        assert (asked_last[0].type, asked_last[0].content) == ("system", "Answer in Celsius.")
    else:
        assert asked_last[0].type == "human"


# -- hooks -----------------------------------------------------------------------------
def test_pre_model_hook_llm_input_messages_reach_the_model_but_not_the_state() -> None:
    def trim(state: Any) -> dict[str, Any]:
        return {"llm_input_messages": state["messages"][-1:]}

    model = ScriptedModel(responses=[AIMessage("ok", id="a")])
    agent = create_react_agent(model, [], pre_model_hook=trim)
    out = agent.invoke({"messages": [("user", "first"), ("user", "second")]})
    assert _texts(model.asked[0]) == [("human", "second")]
    assert [m.content for m in out["messages"]] == ["first", "second", "ok"]


def test_post_model_hook_runs_after_each_model_call_and_can_update_state() -> None:
    class State(AgentState):
        checked: int

    calls: list[int] = []

    def audit(state: Any) -> dict[str, Any]:
        calls.append(len(state["messages"]))
        return {"checked": state.get("checked", 0) + 1}

    model = ScriptedModel(responses=[AIMessage("", id="a1", tool_calls=[_call("weather", {"city": "X"})]), AIMessage("done", id="a2")])
    out = create_react_agent(model, [weather], post_model_hook=audit, state_schema=State).invoke(
        {"messages": [("user", "?")], "checked": 0}
    )
    assert calls == [2, 4]
    assert out["checked"] == 2 and out["messages"][-1].content == "done"


# -- dynamic models --------------------------------------------------------------------
def test_a_dynamic_model_is_chosen_per_call_from_state_and_context() -> None:
    fast = ScriptedModel(responses=[AIMessage("fast", id="f")])
    smart = ScriptedModel(responses=[AIMessage("smart", id="s")])

    def choose(state: Any, runtime: Runtime[dict[str, str]]) -> Any:
        return smart if runtime.context["tier"] == "pro" else fast

    agent = create_react_agent(choose, [])
    assert agent.invoke({"messages": [("user", "hi")]}, context={"tier": "pro"})["messages"][-1].content == "smart"
    assert agent.invoke({"messages": [("user", "hi")]}, context={"tier": "free"})["messages"][-1].content == "fast"


@pytest.mark.anyio
async def test_an_async_dynamic_model_works_under_ainvoke() -> None:
    model = ScriptedModel(responses=[AIMessage("async pick", id="a")])

    async def choose(state: Any, runtime: Any) -> Any:
        return model

    out = await create_react_agent(choose, []).ainvoke({"messages": [("user", "hi")]})
    assert out["messages"][-1].content == "async pick"


# -- state, persistence, interrupts ----------------------------------------------------
def test_pydantic_state_schema_with_extra_keys() -> None:
    class State(AgentStatePydantic):
        user: str = "nobody"

    seen: list[str] = []

    def prompt(state: State) -> list[BaseMessage]:
        seen.append(state.user)
        return list(state.messages)

    model = ScriptedModel(responses=[AIMessage("ok", id="a")])
    out = create_react_agent(model, [], state_schema=State, prompt=prompt).invoke(
        {"messages": [("user", "hi")], "user": "ann"}
    )
    assert seen == ["ann"] and out["user"] == "ann"


def test_a_tool_can_interrupt_and_the_resume_answers_it() -> None:
    @tool
    def ask_human(question: str) -> str:
        """Ask a person."""
        return str(interrupt(question))

    model = ScriptedModel(responses=[AIMessage("", id="a1", tool_calls=[_call("ask_human", {"question": "name?"})]), AIMessage("hi Ada", id="a2")])
    agent = create_react_agent(model, [ask_human], checkpointer=InMemorySaver())
    cfg = {"configurable": {"thread_id": "t"}}
    paused = agent.invoke({"messages": [("user", "greet me")]}, cfg)
    assert [i.value for i in paused["__interrupt__"]] == ["name?"]
    assert agent.get_state(cfg).next == ("tools",)
    out = agent.invoke(Command(resume="Ada"), cfg)
    assert _texts(out["messages"])[-2:] == [("tool", "Ada"), ("ai", "hi Ada")]


def test_interrupt_before_tools_pauses_for_review() -> None:
    model = ScriptedModel(responses=[AIMessage("", id="a1", tool_calls=[_call("weather", {"city": "X"})]), AIMessage("done", id="a2")])
    agent = create_react_agent(model, ToolNode([weather]), checkpointer=InMemorySaver(), interrupt_before=["tools"])
    cfg = {"configurable": {"thread_id": "t"}}
    agent.invoke({"messages": [("user", "?")]}, cfg)
    assert agent.get_state(cfg).next == ("tools",)
    assert agent.invoke(None, cfg)["messages"][-1].content == "done"


# -- argument checks -------------------------------------------------------------------
def test_bad_arguments_are_refused_with_what_is_wrong() -> None:
    model = ScriptedModel(responses=[AIMessage("x")])
    with pytest.raises(TypeError, match=r"unexpected keyword arguments: \{'extra': 1\}"):
        create_react_agent(model, [], extra=1)
    with pytest.raises(ValueError, match="Invalid version v3"):
        create_react_agent(model, [], version="v3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Missing required key\\(s\\) \\{'remaining_steps'\\} in state_schema"):
        from typing_extensions import TypedDict

        class NoSteps(TypedDict):
            messages: list

        create_react_agent(model, [], state_schema=NoSteps)
    with pytest.raises(ValueError, match="Number of tools in the model.bind_tools"):
        create_react_agent(model.bind_tools([weather]), [weather, forecast])
    with pytest.raises(ValueError, match="Missing tools"):
        create_react_agent(model.bind_tools([weather]), [forecast])


def test_the_agent_and_its_states_are_deprecated_as_in_langgraph() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        create_react_agent(ScriptedModel(responses=[AIMessage("x")]), [])
    assert any(issubclass(w.category, LangGraphDeprecatedSinceV10) and "create_agent" in str(w.message) for w in caught)


def test_an_unanswered_tool_call_in_the_history_is_refused() -> None:
    model = ScriptedModel(responses=[AIMessage("x")])
    history = [HumanMessage("hi"), AIMessage("", tool_calls=[_call("weather", {"city": "X"}, "dangling")])]
    with pytest.raises(ValueError, match="INVALID_CHAT_HISTORY"):
        create_react_agent(model, [weather]).invoke({"messages": history})
    # answered: fine
    history.append(ToolMessage("sunny", tool_call_id="dangling"))
    create_react_agent(model, [weather]).invoke({"messages": history})
