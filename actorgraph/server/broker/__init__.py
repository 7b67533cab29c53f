"""Wake-ups, cancel signals and live events between the parts of a server: in-process
(the default, one server process owns an embedded database) or shared (several processes
on one Postgres database, with Redis carrying what must be fast between them)."""

from actorgraph.server.broker._memory import RESULT_EVENT, InProcessBroker, LiveRun, RunReader, ThreadFeed
from actorgraph.server.broker._shared import SharedBroker

__all__ = ("RESULT_EVENT", "InProcessBroker", "LiveRun", "RunReader", "SharedBroker", "ThreadFeed")
