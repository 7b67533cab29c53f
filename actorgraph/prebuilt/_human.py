"""The shapes of a human-in-the-loop exchange: what an agent asks a person
(``HumanInterrupt``, passed to ``interrupt()``) and what it gets back
(``HumanResponse``, the resume value). Plain ``TypedDict``s: they travel as dicts."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict, deprecated

from actorgraph.warnings import LangGraphDeprecatedSinceV10

__all__ = ("ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse")


@deprecated(
    "HumanInterruptConfig has been moved to `langchain.agents.interrupt`. Please update your import to "
    "`from langchain.agents.interrupt import HumanInterruptConfig`.",
    category=LangGraphDeprecatedSinceV10,
)
class HumanInterruptConfig(TypedDict):
    """Which answers the person may give: skip the step, reply in text, edit the
    request, or accept it."""

    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


@deprecated(
    "ActionRequest has been moved to `langchain.agents.interrupt`. Please update your import to "
    "`from langchain.agents.interrupt import ActionRequest`.",
    category=LangGraphDeprecatedSinceV10,
)
class ActionRequest(TypedDict):
    """An action awaiting review: its name and its arguments."""

    action: str
    args: dict


@deprecated(
    "HumanInterrupt has been moved to `langchain.agents.interrupt`. Please update your import to "
    "`from langchain.agents.interrupt import HumanInterrupt`.",
    category=LangGraphDeprecatedSinceV10,
)
class HumanInterrupt(TypedDict):
    """A request for a person's review: the action, the answers allowed, and an
    optional description. Pass it (in a list) to ``interrupt()``."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    """A person's answer: ``accept`` or ``ignore`` (no ``args``), ``response`` (text),
    or ``edit`` (an edited ``ActionRequest``)."""

    type: Literal["accept", "ignore", "response", "edit"]
    args: None | str | ActionRequest
