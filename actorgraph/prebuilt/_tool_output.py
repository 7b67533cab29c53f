"""Checking what a tool returned and folding the results of one ``ToolNode`` run into a
node update.

A tool returns a ``ToolMessage`` (LangChain wraps plain values in one), a ``Command``, or
a list of them. Every tool call must be answered by exactly one ``ToolMessage`` with its
id - the chat model providers reject a history with an unanswered call - so a Command
that updates this graph must carry that message.
"""

from __future__ import annotations

import json
from copy import deepcopy
from dataclasses import replace
from typing import Any, Literal, cast

from langchain_core.messages import RemoveMessage, ToolCall, ToolMessage, convert_to_messages
from langchain_core.tools.base import TOOL_MESSAGE_BLOCK_TYPES

from actorgraph.graph.message import REMOVE_ALL_MESSAGES
from actorgraph._types import Command, Send

__all__ = ("InputKind", "combine_outputs", "msg_content_output", "normalize_tool_response")

InputKind = Literal["list", "dict", "tool_calls"]
"""How ``ToolNode`` was called: with a list of messages, with a state (dict or object
holding the messages), or with tool calls (a list of them, or one sent with its state)."""


def msg_content_output(output: Any) -> str | list[dict[str, Any]]:
    """A tool's output as ``ToolMessage`` content: strings and lists of content blocks
    as they are, anything else as JSON (non-ASCII kept), or ``str()`` if not JSON-able."""
    if isinstance(output, str):
        return output
    if isinstance(output, list) and all(
        isinstance(block, dict) and block.get("type") in TOOL_MESSAGE_BLOCK_TYPES for block in output
    ):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except Exception:
        return str(output)


def normalize_tool_response(
    response: Any, call: ToolCall, kind: InputKind, messages_key: str
) -> ToolMessage | Command[Any] | list[Command[Any] | ToolMessage]:
    """Check a tool's return value against the call it answers."""
    if isinstance(response, Command):
        return _check_command(response, call, kind, messages_key)
    if isinstance(response, ToolMessage):
        response.content = cast("str | list", msg_content_output(response.content))
        return response
    if isinstance(response, list):
        if all(isinstance(item, (Command, ToolMessage)) for item in response):
            return _check_list(response, call, kind, messages_key)
        raise TypeError(
            f"Tool {call['name']} returned a list with invalid element types: expected all Command or ToolMessage"
        )
    raise TypeError(f"Tool {call['name']} returned unexpected type: {type(response)}")


def _check_list(
    items: list[Command[Any] | ToolMessage], call: ToolCall, kind: InputKind, messages_key: str
) -> list[Command[Any] | ToolMessage]:
    """A list return: exactly one of its messages (bare or in a Command's update) answers
    the call; each Command in it is checked like a lone one, minus that rule."""
    call_id = call["id"]
    answers = 0
    for item in items:
        if isinstance(item, ToolMessage):
            answers += item.tool_call_id == call_id
        elif isinstance(item.update, dict):
            answers += sum(
                1
                for msg in item.update.get(messages_key, [])
                if isinstance(msg, ToolMessage) and msg.tool_call_id == call_id
            )
    if answers != 1:
        raise ValueError(
            f"Tool {call['name']} returned a list with {answers} messages bound to tool_call_id "
            f"{call_id!r}; expected exactly one terminating ToolMessage."
        )
    out: list[Command[Any] | ToolMessage] = []
    for item in items:
        if isinstance(item, Command):
            out.append(_check_command(item, call, kind, messages_key, require_answer=False))
        else:
            item.content = cast("str | list", msg_content_output(item.content))
            out.append(item)
    return out


def _check_command(
    command: Command[Any],
    call: ToolCall,
    kind: InputKind,
    messages_key: str,
    *,
    require_answer: bool = True,
) -> Command[Any]:
    """A Command returned by a tool: its update has the shape the node's input has, and
    (sent to this graph) it carries the ToolMessage that answers the call, named after
    the tool."""
    update = command.update
    if isinstance(update, dict):
        if kind not in ("dict", "tool_calls"):
            raise ValueError(
                "Tools can provide a dict in Command.update only when using dict with "
                f"'{messages_key}' key as ToolNode input, got: {update} for tool '{call['name']}'"
            )
        checked = deepcopy(command)
        messages = (checked.update or {}).get(messages_key, [])
    elif isinstance(update, list):
        if kind != "list":
            raise ValueError(
                "Tools can provide a list of messages in Command.update only when using list of "
                f"messages as ToolNode input, got: {update} for tool '{call['name']}'"
            )
        checked = deepcopy(command)
        messages = checked.update
    else:
        return command
    messages = convert_to_messages(messages)
    if messages == [RemoveMessage(id=REMOVE_ALL_MESSAGES)]:
        return checked
    answered = False
    for msg in messages:
        if isinstance(msg, ToolMessage) and msg.tool_call_id == call["id"]:
            msg.name = call["name"]
            answered = True
    if require_answer and checked.graph is None and not answered:
        example = (
            '`Command(update={"messages": [ToolMessage("Success", tool_call_id=tool_call_id), ...]}, ...)`'
            if kind == "dict"
            else '`Command(update=[ToolMessage("Success", tool_call_id=tool_call_id), ...], ...)`'
        )
        raise ValueError(
            f"Expected to have a matching ToolMessage in Command.update for tool '{call['name']}', "
            f"got: {messages}. Every tool call (LLM requesting to call a tool) in the message history "
            "MUST have a corresponding ToolMessage. You can fix it by modifying the tool to return "
            f"{example}."
        )
    return checked


def combine_outputs(
    outputs: list[ToolMessage | Command[Any] | list[Command[Any] | ToolMessage]],
    kind: InputKind,
    messages_key: str,
) -> Any:
    """The node update for all of one run's tool results, in call order.

    Plain messages only: the message list (``kind == "list"``) or ``{messages_key: [...]}``.
    With Commands: a list of updates and Commands for the graph to apply in order, where
    the Sends that several tools address to the parent graph travel in one Command.
    """
    flat: list[ToolMessage | Command[Any]] = []
    for out in outputs:
        if isinstance(out, list):
            flat.extend(out)
        else:
            flat.append(out)
    if not any(isinstance(out, Command) for out in flat):
        return flat if kind == "list" else {messages_key: flat}
    combined: list[Any] = []
    parent_sends: Command[Any] | None = None
    for out in flat:
        if not isinstance(out, Command):
            combined.append([out] if kind == "list" else {messages_key: [out]})
        elif (
            out.graph == Command.PARENT
            and isinstance(out.goto, list)
            and all(isinstance(s, Send) for s in out.goto)
        ):
            if parent_sends is None:
                parent_sends = Command(graph=Command.PARENT, goto=out.goto)
            else:
                parent_sends = replace(parent_sends, goto=[*cast(list, parent_sends.goto), *out.goto])
        else:
            combined.append(out)
    if parent_sends is not None:
        combined.append(parent_sends)
    return combined
