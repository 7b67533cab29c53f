"""The broker of several server processes on one database: any process accepts any
request, any worker runs any run, so wake-ups, cancels and a run's live events cross
processes.

Redis carries them fast: a ``wake`` and a ``cancel`` pub/sub channel, and one stream per
run (``<prefix>:run:<run_id>``: its events in order, then an end entry with its status and
answer), kept ``keep_seconds`` after the run ends. Nothing lives only in Redis: the run's
row and event log in the database are the truth, so when Redis is down (or was never
given) everything still works, slower - idle workers look for work every
``FALLBACK_POLL_SECONDS``, readers of another process's run follow its row and event log,
a cancel reaches the run's worker at its next lease renewal (the storage's cancel request).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from actorgraph.server._logging import redact
from actorgraph.server.broker._memory import (
    RESULT_EVENT,
    Event,
    FeedReader,
    InProcessBroker,
    LiveRun,
    RunReader,
    ThreadFeed,
)

if TYPE_CHECKING:
    from actorgraph.server.storage import Storage

__all__ = ("SharedBroker",)

log = structlog.get_logger("actorgraph.server.broker")

# an idle worker looks for work this often anyway: with Redis up (a lease that expired
# elsewhere, a wake-up lost in a reconnect), and without it (every wake-up is lost)
HEALTHY_POLL_SECONDS = 5.0
FALLBACK_POLL_SECONDS = 1.0
# a reader of another process's run checks the run's row this often (an end Redis missed)
CHECK_SECONDS = 2.0
# a run's stream outlives a worker that died mid-run by this much at most
STREAM_TTL_SECONDS = 24 * 3600
# a thread's stream keeps its last this many events (as a local thread feed)
THREAD_EVENTS_KEPT = 1000
# items waiting for Redis beyond this are dropped, oldest first (readers then fall back on
# the event log, which has every event)
OUTBOX_LIMIT = 100_000


class SharedBroker(InProcessBroker):
    shared = True

    def __init__(
        self, storage: Storage, redis_uri: str | None, *, prefix: str = "actorgraph", keep_seconds: float = 300.0
    ) -> None:
        super().__init__(keep_seconds)
        self.storage = storage
        self.redis_uri = redis_uri
        self.prefix = prefix
        self.redis: Any = None  # a redis.asyncio.Redis while the broker runs with Redis
        self.connected = False
        self._outbox: deque[tuple[Any, ...]] = deque(maxlen=OUTBOX_LIMIT)
        self._outbox_ready = anyio.Event()

    # -- life ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self.redis_uri is None:
            yield
            return
        import redis.asyncio as aioredis

        self.redis = aioredis.Redis.from_url(self.redis_uri, socket_connect_timeout=2.0, socket_timeout=10.0)
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._listen)
                tg.start_soon(self._send)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self.redis.aclose()
            self.redis = None

    @property
    def poll_seconds(self) -> float:
        return HEALTHY_POLL_SECONDS if self.connected else FALLBACK_POLL_SECONDS

    def _channel(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def _stream(self, run_id: str) -> str:
        return f"{self.prefix}:run:{run_id}"

    def _thread_stream(self, thread_id: str) -> str:
        return f"{self.prefix}:thread:{thread_id}"

    def _up(self, up: bool, error: BaseException | None = None) -> None:
        if up != self.connected:
            if up:
                log.info("redis connected", uri=redact(self.redis_uri))
            else:
                log.warning("redis unavailable: falling back on the database", uri=redact(self.redis_uri), error=repr(error))
        self.connected = up

    # -- wake-ups and cancels -----------------------------------------------------------

    def wake(self) -> None:
        super().wake()
        self._post(("publish", self._channel("wake"), b"1"))

    async def send_cancel(self, run_id: str, action: str) -> None:
        self._post(("publish", self._channel("cancel"), json.dumps([run_id, action]).encode()))

    async def _listen(self) -> None:
        """Wake-ups and cancels from the other processes, reconnecting while Redis is away."""
        pause = 0.2
        wake, cancel = self._channel("wake").encode(), self._channel("cancel").encode()
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(wake, cancel)
                self._up(True)
                pause = 0.2
                super().wake()  # a wake-up may have been missed while away
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    if message["channel"] == wake:
                        super().wake()
                    elif message["channel"] == cancel:
                        run_id, action = json.loads(message["data"])
                        self.on_cancel(run_id, action)
            except Exception as exc:  # Redis away: fall back on polling until it is back
                self._up(False, exc)
            finally:
                with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                    await pubsub.aclose()
            await anyio.sleep(pause)
            pause = min(pause * 2, 5.0)

    # -- live events out ----------------------------------------------------------------

    def _new_live(self, run_id: str) -> LiveRun:
        return LiveRun(run_id, sink=self._sink)

    def _new_feed(self, thread_id: str) -> ThreadFeed:
        return ThreadFeed(thread_id, sink=self._thread_sink)

    def _thread_sink(self, thread_id: str, event: str, data: bytes) -> None:
        self._post(("thread", thread_id, event, data))

    def _sink(self, live: LiveRun, item: Event | None) -> None:
        if item is None:
            result = live.result if live.result is not None else b"null"
            self._post(("end", live.run_id, live.last_seq + 1, live.status or "", result))
        else:
            self._post(("event", live.run_id, *item))

    def _post(self, item: tuple[Any, ...]) -> None:
        if self.redis is None:
            return
        self._outbox.append(item)
        self._outbox_ready.set()

    async def _send(self) -> None:
        """Everything posted, in order, a pipeline per batch; while Redis is away the batch
        is dropped (the database has it all) and sending resumes once it is back."""
        pause = 0.2
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready = anyio.Event()
            batch = list(self._outbox)
            self._outbox.clear()
            if not batch:
                continue
            try:
                await self._pipeline(batch)
                pause = 0.2
            except Exception as exc:
                self._up(False, exc)
                await anyio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _pipeline(self, batch: list[tuple[Any, ...]]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        touched: set[str] = set()
        for item in batch:
            kind = item[0]
            if kind == "publish":
                pipe.publish(item[1], item[2])
            elif kind == "thread":
                _, thread_id, event, data = item
                key = self._thread_stream(thread_id)
                pipe.xadd(key, {"e": event, "d": data}, maxlen=THREAD_EVENTS_KEPT, approximate=True)
                touched.add(key)
            elif kind == "event":
                _, run_id, seq, event, data = item
                key = self._stream(run_id)
                pipe.xadd(key, {"s": seq, "e": event, "d": data})
                touched.add(key)
            else:  # end
                _, run_id, seq, status, result = item
                key = self._stream(run_id)
                pipe.xadd(key, {"s": seq, "end": status, "d": result})
                pipe.expire(key, int(self.keep_seconds))
                touched.discard(key)
        for key in touched:
            pipe.expire(key, STREAM_TTL_SECONDS)
        await pipe.execute()

    # -- live events in -----------------------------------------------------------------

    def expect(self, run_id: str) -> None:
        """Nothing to do: whichever process runs it, readers follow its stream from the start."""

    async def follow(self, run_id: str) -> RunReader | None:
        local = self.live(run_id)
        if local is not None:
            return local
        if await self.storage.run_get(run_id) is None:
            return None
        reader = RemoteRun(run_id, self)
        await reader.catch_up()
        return reader

    @contextlib.asynccontextmanager
    async def follow_thread(self, thread_id: str, after: int | None) -> AsyncIterator[FeedReader]:
        """With Redis, the thread's events from every process (numbered by their Redis
        stream ids); without it, those of runs executing in this process."""
        if not self.connected:
            async with super().follow_thread(thread_id, after) as feed:
                yield feed
            return
        reader = RemoteThread(thread_id, self)
        if after is None:
            with contextlib.suppress(Exception):
                await reader.start_at_end()
        yield reader

    async def last_published(self, run_id: str) -> int:
        """The last event number of the run that Redis has (a resumed run goes on after it)."""
        if self.redis is None:
            return 0
        try:
            last = await self.redis.xrevrange(self._stream(run_id), count=1)
        except Exception:
            return 0
        return int(last[0][1][b"s"]) if last else 0


class RemoteRun:
    """A run another process executes (or that is not started yet), followed from its Redis
    stream, or from its row and event log while Redis is away."""

    def __init__(self, run_id: str, broker: SharedBroker) -> None:
        self.run_id = run_id
        self.broker = broker
        self.events: list[Event] = []
        self.done = False
        self.moved = False
        self.status: str | None = None
        self.result: bytes | None = None
        self._cursor = "0-0"  # the last Redis stream entry read
        self._checked = 0.0

    @property
    def last_seq(self) -> int:
        return self.events[-1][0] if self.events else 0

    def after(self, seq: int) -> Iterator[Event]:
        return (e for e in self.events if e[0] > seq)

    async def catch_up(self) -> None:
        """What is there already: the stream's entries, else the row and event log."""
        if self.broker.connected:
            with contextlib.suppress(Exception):
                await self._read(None)
        if not self.done:
            await self._check()

    async def wait_changed(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        seen = (len(self.events), self.done)
        while (left := deadline - time.monotonic()) > 0:
            step = min(left, CHECK_SECONDS)
            if self.broker.connected:
                try:
                    await self._read(step)
                except Exception:
                    await anyio.sleep(min(step, FALLBACK_POLL_SECONDS))
            else:
                await anyio.sleep(min(step, FALLBACK_POLL_SECONDS))
            if (len(self.events), self.done) == seen and (
                not self.broker.connected or time.monotonic() - self._checked >= CHECK_SECONDS
            ):
                await self._check()
            if (len(self.events), self.done) != seen:
                return

    async def _read(self, block: float | None) -> None:
        redis = self.broker.redis
        key = self.broker._stream(self.run_id)
        answer = await redis.xread({key: self._cursor}, count=1000, block=None if block is None else max(int(block * 1000), 1))
        for _, entries in answer or ():
            for entry_id, fields in entries:
                self._cursor = entry_id
                seq = int(fields[b"s"])
                if b"end" in fields:
                    await self._fill(seq)
                    self.status = fields[b"end"].decode() or None
                    self.result = fields[b"d"]
                    self.done = True
                    return
                if seq > self.last_seq + 1:
                    await self._fill(seq)
                if seq > self.last_seq:
                    self.events.append((seq, fields[b"e"].decode(), fields[b"d"]))

    async def _fill(self, before: int) -> None:
        """Events Redis skipped (sent while it was away): from the event log."""
        if before > self.last_seq + 1:
            with contextlib.suppress(Exception):
                for seq, event, data in await self.broker.storage.events_read(self.run_id, self.last_seq):
                    if seq < before and event != RESULT_EVENT:
                        self.events.append((seq, event, data))

    async def _check(self) -> None:
        """The run's row: ended (its event log is complete then) or gone (rolled back)."""
        self._checked = time.monotonic()
        storage = self.broker.storage
        try:
            run = await storage.run_get(self.run_id)
            if run is not None and run.status in ("pending", "running") and self.broker.connected:
                return
            logged = await storage.events_read(self.run_id, self.last_seq) if run is not None else []
        except Exception:  # the database is away too: look again later
            return
        for seq, event, data in logged:
            if event == RESULT_EVENT:
                self.result = data
            else:
                self.events.append((seq, event, data))
        if run is None or run.status not in ("pending", "running"):
            self.status = None if run is None else run.status
            self.done = True


class RemoteThread:
    """A thread's events from its Redis stream. An event's number is its stream id
    (``<ms>-<n>`` as ``ms * 1000 + n``), so a ``Last-Event-ID`` finds its place again on
    any process."""

    def __init__(self, thread_id: str, broker: SharedBroker) -> None:
        self.thread_id = thread_id
        self.broker = broker
        self.events: deque[Event] = deque(maxlen=THREAD_EVENTS_KEPT)
        self._last = 0

    @property
    def last_seq(self) -> int:
        return self._last

    async def start_at_end(self) -> None:
        last = await self.broker.redis.xrevrange(self.broker._thread_stream(self.thread_id), count=1)
        if last:
            self._last = _number(last[0][0])

    def after(self, seq: int) -> list[Event]:
        return [e for e in self.events if e[0] > seq]

    async def wait_changed(self, timeout: float) -> None:
        start = f"{self._last // 1000}-{self._last % 1000}"
        try:
            answer = await self.broker.redis.xread(
                {self.broker._thread_stream(self.thread_id): start}, count=1000, block=max(int(timeout * 1000), 1)
            )
        except Exception:  # Redis away: heartbeats until it is back
            await anyio.sleep(min(timeout, FALLBACK_POLL_SECONDS))
            return
        for _, entries in answer or ():
            for entry_id, fields in entries:
                self._last = _number(entry_id)
                self.events.append((self._last, fields[b"e"].decode(), fields[b"d"]))


def _number(entry_id: bytes | str) -> int:
    ms, _, n = (entry_id.decode() if isinstance(entry_id, bytes) else entry_id).partition("-")
    return int(ms) * 1000 + int(n or 0)
