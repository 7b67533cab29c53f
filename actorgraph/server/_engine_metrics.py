"""The engine's own numbers in ``/metrics``: ``graph.statistics()`` summed over the served
graphs (steps, tasks, their failures; runs and tasks going on, jobs queued) and the
checkpointer's ``statistics()`` (checkpoints and bytes written), as Prometheus text."""

from __future__ import annotations

from typing import Any

__all__ = ("engine_metric_lines",)

# (metric, kind, help, graph statistics field)
_GRAPH_METRICS = (
    ("actorgraph_engine_steps_total", "counter", "Super-steps the served graphs closed.", "steps"),
    ("actorgraph_engine_tasks_total", "counter", "Node tasks the served graphs started.", "tasks"),
    ("actorgraph_engine_tasks_failed_total", "counter", "Node task attempts that raised.", "tasks_failed"),
    ("actorgraph_engine_runs_active", "gauge", "Graph runs going on in this process.", "runs_active"),
    ("actorgraph_tasks_in_flight", "gauge", "Node tasks started and not finished.", "tasks_running"),
    ("actorgraph_engine_jobs_queued", "gauge", "Engine jobs waiting for a worker.", "jobs_queued"),
)
# (metric, help, saver statistics field)
_SAVER_METRICS = (
    ("actorgraph_checkpoints_written_total", "Checkpoints the runs saved.", "checkpoints_written"),
    ("actorgraph_checkpoint_bytes_written_total", "Serialized bytes of the checkpoints and writes saved.", "bytes_written"),
    ("actorgraph_checkpoints_loaded_total", "Checkpoints read back whole.", "checkpoints_loaded"),
)


def engine_metric_lines(graphs: Any, checkpointer: Any) -> list[str]:
    """Prometheus lines for ``graphs`` (a ``GraphRegistry``) and ``checkpointer``."""
    totals = graphs.statistics()
    lines: list[str] = []
    for metric, kind, text, field in _GRAPH_METRICS:
        lines += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}", f"{metric} {totals.get(field, 0)}"]
    read = getattr(checkpointer, "statistics", None)
    saver = read() if callable(read) else None
    if saver is not None:
        for metric, text, field in _SAVER_METRICS:
            lines += [f"# HELP {metric} {text}", f"# TYPE {metric} counter", f"{metric} {getattr(saver, field, 0)}"]
    return lines
