"""Run webhooks: after a run's status is final, one POST of the run's record with its
``values`` (or ``error``), ``run_started_at``, ``run_ended_at`` and ``webhook_sent_at`` to
the URL the run was created with, as LangGraph's server sends it.

The ``webhooks`` key of ``langgraph.json`` is the policy (the same keys and defaults as
LangGraph's server): ``url`` (``allowed_domains``, ``allowed_ports``, ``require_https``,
``disable_loopback``, ``disable_private_ips``, ``max_url_length``), ``headers`` (values may
hold ``${{ env.NAME }}`` templates, resolved once at start; ``NAME`` must start with
``env_prefix``, ``LG_WEBHOOK_`` unless set) and ``allowed_fields`` (which fields of the body
are sent). A URL the policy refuses is a 422 when the run is created, naming ``webhook``.

Deliveries run in a task group the server owns, never in the run: a receiver that fails is
retried (5xx, 429, connection errors and timeouts; 3 attempts with jittered exponential
backoff), one that never answers times out, and either way the run has ended already; a
delivery that fails for good is logged.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import re
import socket
import warnings
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.abc
import httpx
import msgspec
import structlog

from actorgraph.errors import ConfigError
from actorgraph.server._context import now
from actorgraph.server._errors import ApiError
from actorgraph.server._json import dumps

__all__ = ("WEBHOOK_FIELDS", "WebhookPolicy", "Webhooks", "check_webhook_url", "parse_webhook_policy")

log = structlog.get_logger("actorgraph.server.webhooks")

# the fields of a webhook's body (what ``allowed_fields`` may name)
WEBHOOK_FIELDS = frozenset(
    {
        "run_id", "thread_id", "assistant_id", "created_at", "updated_at", "metadata", "kwargs",
        "multitask_strategy", "status", "run_started_at", "run_ended_at", "webhook_sent_at", "values", "error",
    }
)
_URL_KEYS = frozenset(
    {"allowed_domains", "allowed_ports", "require_https", "disable_loopback", "disable_private_ips", "max_url_length"}
)
_KEYS = frozenset({"env_prefix", "url", "headers", "allowed_fields"})
_TEMPLATE = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "host.docker.internal"})
_METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.amazonaws.com", "metadata", "instance-data"})
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)

ATTEMPTS = 3
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 30.0
BACKOFF_SECONDS = 1.0  # the first wait; each next one doubles (plus up to 1 s of jitter)


class WebhookPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed ``webhooks`` config. Without one, as LangGraph's server: any port, http
    allowed, loopback refused, URLs up to 4096 characters; a ``url`` object given without
    them turns on ``require_https`` and caps URLs at 2048."""

    allowed_domains: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = ()
    require_https: bool = False
    disable_loopback: bool = True
    disable_private_ips: bool = False
    max_url_length: int = 4096
    headers: dict[str, str] = {}
    allowed_fields: frozenset[str] | None = None


def _fail(key: str, message: str, value: Any) -> ConfigError:
    return ConfigError(f"{key} {message}, got {value!r}", key=key, value=value)


def _known(section: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    # as for langgraph.json's other keys: an unknown one warns (a newer LangGraph's key, a typo)
    for key in section:
        if key not in keys:
            warnings.warn(f"langgraph.json: unknown key {where}.{key} is ignored (known: {sorted(keys)})", stacklevel=4)


def _flag(url: Mapping[str, Any], name: str, default: bool) -> bool:
    value = url.get(name, default)
    if not isinstance(value, bool):
        raise _fail(f"webhooks.url.{name}", "must be true or false", value)
    return value


def _headers(raw: Any, prefix: str, environ: Mapping[str, str]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise _fail("webhooks.headers", "must be an object of header name -> value", raw)
    out = {}
    for name, template in raw.items():
        key = f"webhooks.headers.{name}"
        if not isinstance(template, str):
            raise _fail(key, "must be a string", template)

        def resolve(match: re.Match[str], key: str = key) -> str:
            expr = match.group(1).strip()
            var = expr[len("env.") :] if expr.startswith("env.") else ""
            if not var or "." in var:
                raise _fail(key, "may only reference ${{ env.NAME }}", match.group(0))
            if prefix and not var.startswith(prefix):
                raise _fail(key, f"references an environment variable not starting with env_prefix {prefix!r}", var)
            if var not in environ:
                raise _fail(key, "references an environment variable that is not set", var)
            return environ[var]

        out[str(name)] = _TEMPLATE.sub(resolve, template)
    return out


def parse_webhook_policy(raw: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> WebhookPolicy:
    """Check ``langgraph.json``'s ``webhooks`` (a ``ConfigError`` names the bad key) and
    resolve its header templates against ``environ`` (the process environment)."""
    if raw is None:
        return WebhookPolicy()
    environ = os.environ if environ is None else environ
    _known(raw, _KEYS, "webhooks")
    prefix = raw.get("env_prefix", "LG_WEBHOOK_")
    if not isinstance(prefix, str):
        raise _fail("webhooks.env_prefix", "must be a string", prefix)
    fields = raw.get("allowed_fields")
    if fields is not None:
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise _fail("webhooks.allowed_fields", "must be a list of field names", fields)
        unknown = sorted(set(fields) - WEBHOOK_FIELDS)
        if unknown:
            raise _fail("webhooks.allowed_fields", f"names unknown fields (known: {sorted(WEBHOOK_FIELDS)})", unknown)
    url = raw.get("url")
    policy: dict[str, Any] = {
        "headers": _headers(raw.get("headers"), prefix, environ),
        "allowed_fields": frozenset(fields) if fields else None,
    }
    if url is None:
        return WebhookPolicy(**policy)
    if not isinstance(url, Mapping):
        raise _fail("webhooks.url", "must be an object", url)
    _known(url, _URL_KEYS, "webhooks.url")
    domains = url.get("allowed_domains", [])
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        raise _fail("webhooks.url.allowed_domains", "must be a list of non-empty host names", domains)
    for domain in domains:
        if "*" in domain and not (domain.startswith("*.") and "*" not in domain[2:]):
            raise _fail("webhooks.url.allowed_domains", "may only use '*' as a '*.' prefix", domain)
    ports = url.get("allowed_ports", [])
    if not isinstance(ports, list) or not all(type(p) is int and 0 < p < 65536 for p in ports):
        raise _fail("webhooks.url.allowed_ports", "must be a list of port numbers", ports)
    length = url.get("max_url_length", 2048)
    if type(length) is not int or length < 1:
        raise _fail("webhooks.url.max_url_length", "must be a positive integer", length)
    return WebhookPolicy(
        allowed_domains=tuple(d.lower() for d in domains),
        allowed_ports=tuple(ports),
        require_https=_flag(url, "require_https", True),
        disable_loopback=_flag(url, "disable_loopback", True),
        disable_private_ips=_flag(url, "disable_private_ips", False),
        max_url_length=length,
        **policy,
    )


def _refuse(reason: str) -> ApiError:
    return ApiError(422, f"Invalid webhook: {reason}")


def _ip_refusal(address: str, policy: WebhookPolicy) -> str | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback addresses are disabled (webhooks.url.disable_loopback)" if policy.disable_loopback else None
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{ip} is in a blocked address range"
    if policy.disable_private_ips and any(ip in net for net in _PRIVATE):
        return f"{ip} is a private address (webhooks.url.disable_private_ips)"
    return None


async def check_webhook_url(url: str, policy: WebhookPolicy) -> None:
    """Raise a 422 ``ApiError`` naming the webhook when ``policy`` refuses ``url``
    (the host's addresses are resolved: a name that resolves to a refused address is
    refused too)."""
    if len(url) > policy.max_url_length:
        raise _refuse(f"the URL is longer than {policy.max_url_length} characters (webhooks.url.max_url_length)")
    if url.startswith("/"):
        # a path on this server, posted in-process
        if policy.disable_loopback:
            raise _refuse(f"{url!r} is a path on this server: loopback webhooks are disabled (webhooks.url.disable_loopback)")
        return
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _refuse(f"{url!r} is not a URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _refuse(f"{url!r} must be an http(s) URL")
    if policy.require_https and scheme != "https":
        raise _refuse("the URL must use https (webhooks.url.require_https)")
    port = port if port is not None else (443 if scheme == "https" else 80)
    if policy.allowed_ports and port not in policy.allowed_ports:
        raise _refuse(f"port {port} is not allowed (webhooks.url.allowed_ports)")
    host = (parts.hostname or "").lower()
    if not host:
        raise _refuse(f"{url!r} has no host")
    exact = {d for d in policy.allowed_domains if not d.startswith("*.")}
    wild = any(host.endswith(d[1:]) for d in policy.allowed_domains if d.startswith("*."))
    if policy.allowed_domains and host not in exact and not wild:
        raise _refuse(f"the domain {host!r} is not allowed (webhooks.url.allowed_domains)")
    if host in exact:
        return  # named by the operator: trusted as it is
    if host in _METADATA_NAMES or host.endswith(".svc.cluster.local"):
        raise _refuse(f"the host {host!r} is an internal endpoint")
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        if policy.disable_loopback:
            raise _refuse(f"the host {host!r} is loopback (webhooks.url.disable_loopback)")
        return
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):  # an unknown name, or one IDNA can't encode
        raise _refuse(f"the host {host!r} does not resolve") from None
    for info in infos:
        reason = _ip_refusal(str(info[4][0]), policy)
        if reason is not None:
            raise _refuse(reason)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _webhook_body(
    run: Mapping[str, Any], status: str, values: Any, error: Any, started: datetime, ended: datetime | None
) -> dict[str, Any]:
    body = {
        **run,
        "status": status,
        "run_started_at": _iso(started),
        "run_ended_at": _iso(ended),
        "webhook_sent_at": now().isoformat(),
        "values": values,
    }
    if error is not None:
        body["error"] = error
    return body


def _retriable(exc: Exception) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, (httpx.TimeoutException, httpx.NetworkError))


class Webhooks:
    """Sends the webhooks of ended runs from a task group of its own (``running()``,
    entered by the app's lifespan): a delivery never holds up a run or a request, and
    those still going when the server stops are cancelled."""

    def __init__(self, policy: WebhookPolicy, app: Any = None, *, enabled: bool = True) -> None:
        self.policy = policy
        # ``http.disable_webhooks``: URLs are still checked at run creation, never called
        self.enabled = enabled
        self._app = app
        self._tg: anyio.abc.TaskGroup | None = None
        self._client: httpx.AsyncClient | None = None
        self._loopback: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        timeout = httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT)
        async with contextlib.AsyncExitStack() as stack:
            # redirects are not followed: the policy checked this URL, not where it points
            self._client = await stack.enter_async_context(httpx.AsyncClient(timeout=timeout))
            if self._app is not None:
                transport = httpx.ASGITransport(app=self._app)
                self._loopback = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://actorgraph", timeout=timeout)
                )
            async with anyio.create_task_group() as tg:
                self._tg = tg
                try:
                    yield
                finally:
                    self._tg = None
                    tg.cancel_scope.cancel()

    def run_ended(
        self, run: Any, status: str, values: Any, error: Any, started: datetime, ended: datetime | None
    ) -> None:
        """Send the webhook of ``run`` (a :class:`~actorgraph.server.schemas.Run`), if it
        has one, now that its status is final."""
        url = run.kwargs.get("webhook")
        if url and not self.enabled:
            log.info("webhooks disabled (http.disable_webhooks): not called", run_id=run.run_id, webhook=url)
        elif url:
            body = _webhook_body(msgspec.structs.asdict(run), status, values, error, started, ended)
            self.send(url, body, run_id=run.run_id)

    def send(self, url: str, body: dict[str, Any], *, run_id: str) -> None:
        """Deliver ``body`` to ``url`` in the background (dropped, and logged, when the
        server is stopping)."""
        if self._tg is None:
            log.warning("webhook dropped: the server is stopping", webhook=url, run_id=run_id)
            return
        if self.policy.allowed_fields is not None:
            body = {k: v for k, v in body.items() if k in self.policy.allowed_fields}
        self._tg.start_soon(self._deliver, url, dumps(body), run_id)

    async def _deliver(self, url: str, content: bytes, run_id: str) -> None:
        try:
            # the policy may have changed since the run was accepted (a restart)
            await check_webhook_url(url, self.policy)
        except ApiError as exc:
            log.warning("webhook refused", webhook=url, run_id=run_id, reason=exc.detail)
            return
        client = self._loopback if url.startswith("/") else self._client
        if client is None:
            log.warning("webhook refused", webhook=url, run_id=run_id, reason="no in-process client")
            return
        headers = {**self.policy.headers, "content-type": "application/json"}
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = await client.post(url, content=content, headers=headers)
                response.raise_for_status()
            except Exception as exc:
                if attempt < ATTEMPTS and _retriable(exc):
                    await anyio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1) + random.random())
                    continue
                log.error(
                    "webhook failed", webhook=url, run_id=run_id, attempts=attempt, error=f"{type(exc).__name__}: {exc}"
                )
                return
            log.info("webhook sent", webhook=url, run_id=run_id, attempts=attempt, status_code=response.status_code)
            return
