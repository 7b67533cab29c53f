"""Wake-ups, cancel signals and live events between the parts of a server: in-process
(the default, one server process); Redis comes with the multi-process issue."""

from actorgraph.server.broker._memory import InProcessBroker, LiveRun, ThreadFeed

__all__ = ("InProcessBroker", "LiveRun", "ThreadFeed")
