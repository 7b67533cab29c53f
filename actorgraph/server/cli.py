"""``actorgraph dev`` (reloads on change) and ``actorgraph serve``: read ``langgraph.json``
and serve its graphs over the LangGraph Server API on uvicorn."""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from actorgraph.errors import ConfigError
from actorgraph.server._logging import LOG_FORMATS, configure_logging
from actorgraph.server.auth import startup_notice
from actorgraph.server.config import ServerConfig, load_config

__all__ = ("main", "prepare")


def prepare(config: ServerConfig, *, alias_langgraph: bool = False) -> None:
    """Set the config's environment, put its dependencies on ``sys.path`` and, when asked,
    make ``import langgraph`` load actorgraph: all before a graph is imported."""
    for key, value in config.env.items():
        os.environ.setdefault(key, value)
    root = Path(config.root)
    for dep in reversed(config.dependencies):
        path = (root / dep).resolve()
        if path.is_dir() and str(path) not in sys.path:
            sys.path.insert(0, str(path))
    if alias_langgraph or config.alias_langgraph:
        from actorgraph._alias import install_as_langgraph

        install_as_langgraph()


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # as uvicorn binds: a port whose last connections linger in TIME_WAIT is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SystemExit(f"actorgraph: port {port} on {host} is already in use; pick another with --port") from None
            raise SystemExit(f"actorgraph: cannot listen on {host}:{port}: {exc.strerror}") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="actorgraph", description="Serve LangGraph graphs over the LangGraph Server API.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (("dev", "run a development server (reloads on change)"), ("serve", "run the server")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", "-c", default="langgraph.json", help="path to langgraph.json (default: ./langgraph.json)")
        p.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
        p.add_argument("--port", type=int, default=2024, help="port to listen on (default: 2024; in use = error)")
        p.add_argument("--n-jobs-per-worker", type=int, default=10, help="runs executed at once (default: 10)")
        p.add_argument("--no-reload", action="store_true", help="do not restart when a file changes")
        p.add_argument("--data-dir", default=None, help="where the database lives (default: .actorgraph/ beside the config)")
        serve = name == "serve"
        p.add_argument(
            "--database-uri",
            default=os.environ.get("DATABASE_URI") if serve else None,
            help="a Postgres database to keep everything in, which several server processes may share, "
            "instead of the embedded SQLite file" + (" (default: $DATABASE_URI)" if serve else ""),
        )
        p.add_argument(
            "--redis-uri",
            default=os.environ.get("REDIS_URI") if serve else None,
            help="a Redis for wake-ups, cancels and live events between server processes on one database"
            + (" (default: $REDIS_URI)" if serve else ""),
        )
        p.add_argument("--alias-langgraph", action="store_true", help="graphs that import langgraph get actorgraph")
        p.add_argument("--log-level", default="info", help="the lowest level logged (default: info)")
        p.add_argument(
            "--log-format",
            choices=LOG_FORMATS,
            default="console" if name == "dev" else "json",
            help="structlog entries as JSON lines or console lines (default: console for dev, json for serve)",
        )
    return parser


def _uris(args: argparse.Namespace, config: ServerConfig) -> tuple[str | None, str | None]:
    """The database and Redis to use: the flags, else (``serve``) the ``DATABASE_URI`` and
    ``REDIS_URI`` of the environment or of ``langgraph.json``'s ``env``. ``dev`` uses them
    only when given as flags: a graph's own DATABASE_URI is not the server's."""
    database_uri, redis_uri = args.database_uri, args.redis_uri
    if args.command == "serve":
        database_uri = database_uri or config.env.get("DATABASE_URI")
        redis_uri = redis_uri or config.env.get("REDIS_URI")
    return database_uri or None, redis_uri or None


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.n_jobs_per_worker < 1:
        raise SystemExit("actorgraph: --n-jobs-per-worker must be 1 or more")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise SystemExit(f"actorgraph: {exc}") from None
    data_dir = Path(args.data_dir).resolve() if args.data_dir else Path(config.root) / ".actorgraph"
    _check_port(args.host, args.port)
    os.environ["ACTORGRAPH_SERVER_CONFIG"] = str(Path(args.config).resolve())
    os.environ["ACTORGRAPH_SERVER_DATA_DIR"] = str(data_dir)
    os.environ["ACTORGRAPH_SERVER_N_JOBS"] = str(args.n_jobs_per_worker)
    os.environ["ACTORGRAPH_SERVER_ALIAS_LANGGRAPH"] = "1" if args.alias_langgraph else "0"
    os.environ["ACTORGRAPH_SERVER_LOG_LEVEL"] = args.log_level
    os.environ["ACTORGRAPH_SERVER_LOG_FORMAT"] = args.log_format
    database_uri, redis_uri = _uris(args, config)
    os.environ["ACTORGRAPH_SERVER_DATABASE_URI"] = database_uri or ""
    os.environ["ACTORGRAPH_SERVER_REDIS_URI"] = redis_uri or ""
    try:
        configure_logging(args.log_level, args.log_format)
    except ValueError as exc:
        raise SystemExit(f"actorgraph: {exc}") from None
    startup_notice(config.auth, args.host)
    reload = args.command == "dev" and not args.no_reload
    import uvicorn

    if not reload:
        # import the graphs now, so a broken graph fails before the port is taken
        from actorgraph.server.app import create_app

        prepare(config, alias_langgraph=args.alias_langgraph)
        try:
            app = create_app(
                config, data_dir=data_dir, n_jobs=args.n_jobs_per_worker, database_uri=database_uri, redis_uri=redis_uri
            )
        except ConfigError as exc:
            raise SystemExit(f"actorgraph: {exc}") from None
        uvicorn.run(
            app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=30
        )
        return
    uvicorn.run(
        "actorgraph.server.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        reload=True,
        reload_dirs=[config.root],
        reload_excludes=[str(data_dir), "*.sqlite*"],
        log_level=args.log_level,
        access_log=False,
    )


if __name__ == "__main__":  # pragma: no cover
    main()
