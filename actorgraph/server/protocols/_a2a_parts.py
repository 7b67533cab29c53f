"""A2A messages and LangGraph state, both ways: a message's parts become the graph's
input (text parts LangChain messages, data parts input keys, file parts content blocks),
and the graph's messages become A2A history, reply parts and artifacts, in the shapes
LangGraph's server sends (protocol 1.0 names; ``legacy`` turns them into 0.x names)."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

__all__ = (
    "ROLE_AGENT",
    "ROLE_USER",
    "agent_message",
    "content_parts",
    "extract_resume",
    "history",
    "interrupt_artifact",
    "joined_text",
    "legacy",
    "message_input",
    "now_iso",
    "response_artifact",
    "response_parts",
    "role_of",
)

ROLE_USER = "ROLE_USER"
ROLE_AGENT = "ROLE_AGENT"
_LEGACY_ROLES = {"ROLE_USER": "user", "ROLE_AGENT": "agent"}
_LEGACY_STATES = {
    "TASK_STATE_SUBMITTED": "submitted",
    "TASK_STATE_WORKING": "working",
    "TASK_STATE_COMPLETED": "completed",
    "TASK_STATE_FAILED": "failed",
    "TASK_STATE_CANCELED": "canceled",
    "TASK_STATE_INPUT_REQUIRED": "input-required",
    "TASK_STATE_REJECTED": "rejected",
    "TASK_STATE_AUTH_REQUIRED": "auth-required",
}
_FROM_LEGACY_ROLES = {v: k for k, v in _LEGACY_ROLES.items()}
_USER_TYPES = {"human", "humanmessage", "humanmessagechunk"}
_AGENT_TYPES = {"ai", "aimessage", "aimessagechunk"}
_ROLE_TYPES = {"chat", "chatmessage", "chatmessagechunk"}  # the role says who spoke
_MEDIA_BLOCKS = {"audio", "file", "image", "video"}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def legacy(data: Any) -> Any:
    """A 1.0 answer in the 0.x spelling (what a client that called ``message/send``
    rather than ``SendMessage`` reads): lower-case roles and states, a task unwrapped."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "role" and isinstance(value, str):
                out[key] = _LEGACY_ROLES.get(value, value)
            elif key == "state" and isinstance(value, str):
                out[key] = _LEGACY_STATES.get(value, value)
            elif key == "result" and isinstance(value, dict) and list(value) == ["task"]:
                out[key] = legacy(value["task"])
            else:
                out[key] = legacy(value)
        return out
    if isinstance(data, list):
        return [legacy(item) for item in data]
    return data


def _file_block(part: dict[str, Any]) -> dict[str, Any]:
    file = part.get("file")
    if not isinstance(file, dict):
        raise ValueError("FilePart must contain a 'file' object with 'bytes' or 'uri'.")
    data, uri = file.get("bytes"), file.get("uri")
    if (data is None) == (uri is None):
        raise ValueError("FilePart 'file' must contain exactly one of 'bytes' or 'uri'.")
    mime = file.get("mimeType")
    top = mime.split("/", 1)[0].lower() if isinstance(mime, str) else ""
    # a uri is passed on as a url, never fetched here
    block: dict[str, Any] = {"type": top if top in ("image", "audio", "video") else "file"}
    block["base64" if data is not None else "url"] = data if data is not None else uri
    if mime:
        block["mime_type"] = mime
    if file.get("name"):
        block["extras"] = {"filename": file["name"]}
    return block


def message_input(parts: list[Any], role: str, message_id: str) -> dict[str, Any]:
    """The graph input for a message's parts; ``ValueError`` names a part it can't take."""
    role = _FROM_LEGACY_ROLES.get(role, role)
    speaker = "human" if role == ROLE_USER else "assistant"
    messages: list[dict[str, Any]] = []
    data: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    with_files = any(isinstance(p, dict) and "file" in p for p in parts)
    for part in parts:
        if not isinstance(part, dict):
            raise ValueError("Each message part must be an object. A2A agents support 'text', 'data', and 'file' parts only.")
        present = [k for k in ("text", "file", "data") if k in part]
        if len(present) > 1:
            raise ValueError(f"Each message part must contain exactly one of 'text', 'file', or 'data'. Got multiple: {present}.")
        if "text" in part:
            if with_files:
                blocks.append({"type": "text", "text": part["text"]})
            else:
                messages.append({"role": speaker, "content": part["text"], "id": message_id})
        elif "file" in part:
            blocks.append(_file_block(part))
        elif "data" in part:
            if not isinstance(part["data"], dict):
                raise ValueError("DataPart must contain a JSON object in the 'data' field")
            data.update(part["data"])
        else:
            raise ValueError("Unsupported part type. A2A agents support 'text', 'data', and 'file' parts only.")
    if blocks:
        messages.append({"role": speaker, "content": blocks, "id": message_id})
    if not messages and not data:
        raise ValueError("Message must contain at least one valid text, data, or file part")
    return {**({"messages": messages} if messages else {}), **data}


def extract_resume(parts: list[Any]) -> tuple[bool, Any]:
    """``(True, value)`` when a data part carries ``{"resume": value}`` (how a client
    answers an interrupt); ``ValueError`` for more than one."""
    found = [p["data"]["resume"] for p in parts if isinstance(p, dict) and isinstance(p.get("data"), dict) and "resume" in p["data"]]
    if len(found) > 1:
        raise ValueError("Only one resume value is allowed in data parts")
    return (True, found[0]) if found else (False, None)


def joined_text(parts: list[Any]) -> str | None:
    texts = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return "\n".join(texts) if texts else None


def _label(value: Any) -> str:
    return value.lower().replace("_", "").replace("-", "") if isinstance(value, str) else ""


def role_of(message: dict[str, Any]) -> str | None:
    """The A2A role of a LangChain message; ``None`` for what isn't a public turn
    (system prompts, tool output)."""
    kind, role = _label(message.get("type")), _label(message.get("role"))
    by_type = ROLE_USER if kind in _USER_TYPES else ROLE_AGENT if kind in _AGENT_TYPES else None
    if kind and by_type is None and kind not in _ROLE_TYPES:
        return None
    by_role = ROLE_USER if role in ("human", "user") else ROLE_AGENT if role in ("agent", "assistant") else None
    if role and by_role is None:
        return None
    if by_type is not None and by_role is not None and by_type != by_role:
        return None
    return by_type or by_role


def _file_part(block: dict[str, Any]) -> dict[str, Any] | None:
    file: dict[str, Any] = {}
    if isinstance(block.get("url"), str):
        file["uri"] = block["url"]
    elif isinstance(block.get("base64") or block.get("data"), str):
        file["bytes"] = block.get("base64") or block.get("data")
    else:
        return None
    if isinstance(block.get("mime_type"), str) and block["mime_type"]:
        file["mimeType"] = block["mime_type"]
    extras = block.get("extras")
    name = block.get("filename") or (extras.get("filename") if isinstance(extras, dict) else None)
    if isinstance(name, str) and name:
        file["name"] = name
    return {"kind": "file", "file": file}


def content_parts(content: Any) -> list[dict[str, Any]]:
    """A message's content as A2A parts: text runs joined, media blocks as file parts."""
    if isinstance(content, str):
        return [{"kind": "text", "text": content}]
    if content is None:
        return []
    if not isinstance(content, list):
        return [{"kind": "text", "text": str(content)}]
    parts: list[dict[str, Any]] = []
    text: list[str] = []
    for block in content:
        if isinstance(block, str):
            text.append(block)
        elif isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            text.append(block["text"])
        elif isinstance(block, dict) and block.get("type") in _MEDIA_BLOCKS and (part := _file_part(block)):
            if text:
                parts.append({"kind": "text", "text": "".join(text)})
                text = []
            parts.append(part)
    if text:
        parts.append({"kind": "text", "text": "".join(text)})
    return parts


def _has_content(parts: list[dict[str, Any]]) -> bool:
    return any(p.get("kind") == "file" or (p.get("kind") == "text" and p.get("text")) for p in parts)


def response_parts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply in a run's output: the last agent message after the last user message
    (the whole output as text when it has no messages)."""
    messages = result.get("messages")
    if "__error__" in result or not isinstance(messages, list) or not messages:
        return [{"kind": "text", "text": str(result)}]
    turn: list[Any] = messages
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], dict) and role_of(messages[i]) == ROLE_USER:
            turn = messages[i + 1 :]
            break
    for message in reversed(turn):
        if isinstance(message, dict) and role_of(message) == ROLE_AGENT and "content" in message:
            parts = content_parts(message["content"])
            if _has_content(parts):
                return parts
    return [{"kind": "text", "text": ""}]


def history(
    messages: Any, task_id: str, context_id: str, history_length: int | None = None
) -> list[dict[str, Any]]:
    """The thread's public turns as A2A messages (the last ``history_length``)."""
    out: list[dict[str, Any]] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or (role := role_of(message)) is None:
            continue
        parts = content_parts(message.get("content", ""))
        if role == ROLE_AGENT and not _has_content(parts):
            continue  # an agent turn that only called tools says nothing to the client
        out.append({
            "kind": "message",
            "role": role,
            "parts": parts or [{"kind": "text", "text": ""}],
            "messageId": message.get("id") or str(uuid.uuid4()),
            "taskId": task_id,
            "contextId": context_id,
        })
    if history_length is None:
        return out
    return out[-history_length:] if history_length else []


def agent_message(parts: list[dict[str, Any]], task_id: str, context_id: str | None = None) -> dict[str, Any]:
    message = {"kind": "message", "role": ROLE_AGENT, "parts": parts, "messageId": str(uuid.uuid4()), "taskId": task_id}
    if context_id is not None:
        message["contextId"] = context_id
    return message


def interrupt_artifact(interrupts: Any) -> dict[str, Any]:
    parts = []
    for item in interrupts if isinstance(interrupts, list) else []:
        item = item if isinstance(item, dict) else {"value": item}
        data = {"id": item.get("id"), "value": item.get("value")}
        if item.get("response_schema") is not None:
            data["response_schema"] = item["response_schema"]
        parts.append({"kind": "data", "data": data})
    return {
        "artifactId": str(uuid.uuid4()),
        "name": "Interrupt",
        "description": "Agent requires input to continue",
        "parts": parts,
    }


def response_artifact(parts: list[dict[str, Any]], assistant_id: str) -> dict[str, Any]:
    return {
        "artifactId": str(uuid.uuid4()),
        "name": "Assistant Response",
        "description": f"Response from assistant {assistant_id}",
        "parts": parts,
    }
