"""Custom auth as LangGraph's server does it: ``langgraph.json``'s ``auth.path`` names a
``langgraph_sdk.Auth`` object; its ``@auth.authenticate`` handler runs on every request
(:mod:`._authn`) and its ``@auth.on`` handlers authorize each resource and action
(:mod:`._authz`; the crons API's calls are in :mod:`._crons`)."""

from actorgraph.server.auth._authn import (
    OPEN_PATHS,
    AuthMiddleware,
    RequestAuth,
    ServerAuth,
    load_auth,
    startup_notice,
)
from actorgraph.server.auth._authz import (
    Filter,
    assistant_keep,
    authorize,
    check_assistant,
    check_assistant_create,
    check_run_create,
    check_thread,
    check_thread_copy,
    check_thread_create,
    check_threads,
    run_configurable,
    store_access,
    thread_keep,
    threads_allowed,
)
from actorgraph.server.auth._crons import check_cron, check_cron_create, cron_keep
from actorgraph.server.auth._filters import filter_matches
from actorgraph.server.auth._user import AuthUser, user_from_config

__all__ = (
    "OPEN_PATHS",
    "AuthMiddleware",
    "AuthUser",
    "Filter",
    "RequestAuth",
    "ServerAuth",
    "assistant_keep",
    "authorize",
    "check_assistant",
    "check_assistant_create",
    "check_cron",
    "check_cron_create",
    "check_run_create",
    "check_thread",
    "check_thread_copy",
    "check_thread_create",
    "check_threads",
    "cron_keep",
    "filter_matches",
    "load_auth",
    "run_configurable",
    "startup_notice",
    "store_access",
    "thread_keep",
    "threads_allowed",
    "user_from_config",
)
