"""The server benchmark's harness (``python -m benchmarks.server``), without servers: one graph
source serves both sides by swapping import lines, and the table's medians and ratios."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time

import pytest

from benchmarks.server import graphs, report
from benchmarks.server.servers import tree_rss_bytes


def test_swap_imports_rewrites_import_lines_only() -> None:
    src = (
        "import langgraph\n"
        "from langgraph.graph import StateGraph\n"
        "    from langgraph.types import Send  # indented, in a function\n"
        "import langgraph_sdk\n"
        "from langgraphx import y\n"
        "name = 'from langgraph.graph import X'\n"
        "# import langgraph in a comment after code is not an import line\n"
    )
    out = graphs.swap_imports(src, "actorgraph")
    assert out.splitlines() == [
        "import actorgraph",
        "from actorgraph.graph import StateGraph",
        "    from actorgraph.types import Send  # indented, in a function",
        "import langgraph_sdk",
        "from langgraphx import y",
        "name = 'from langgraph.graph import X'",
        "# import langgraph in a comment after code is not an import line",
    ]
    assert graphs.swap_imports(src, "langgraph") == src


def test_the_actorgraph_app_imports_only_actorgraph_and_gives_the_expected_state(tmp_path) -> None:
    config = graphs.write_app(tmp_path, "actorgraph")
    assert config.read_text() == '{"dependencies": ["."], "graphs": {"bench": "./graph.py:graph"}}'
    source = (tmp_path / "graph.py").read_text()
    assert "langgraph" not in source
    assert source.count("from actorgraph.") == 2
    spec = importlib.util.spec_from_file_location("agsrvbench_graph", tmp_path / "graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as the server imports it
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    assert module.graph.invoke(graphs.INPUT) == graphs.EXPECTED
    # the custom-stream write reaches a caller streaming "custom"
    assert list(module.graph.stream(graphs.INPUT, stream_mode="custom")) == [{"acting": 2}]


def test_the_langgraph_app_is_the_source_unchanged(tmp_path) -> None:
    graphs.write_app(tmp_path, "langgraph")
    assert (tmp_path / "graph.py").read_text() == graphs.GRAPH_SOURCE


def _run(first: list[float], rps: float, idle: float, peak: float, wrong: int = 0) -> dict:
    samples = [{"first_event_s": f, "first_values_s": f + 0.001, "end_s": f + 0.01} for f in first]
    return {
        "status": "ok", "startup_s": 2.0, "rss_idle_mb": idle, "rss_peak_mb": peak,
        "first": {"cold": {"first_event_s": 1.5}, "samples": samples},
        "throughput": {"runs_per_s": rps, "wrong": ["bad"] * wrong},
    }  # fmt: skip


def test_summaries_pool_stream_samples_and_ratios_say_how_much_better_actorgraph_is() -> None:
    lg = report.summarize([_run([1.0, 0.5, 0.9], 10.0, 120.0, 200.0), _run([0.8], 12.0, 118.0, 210.0)])
    ag = report.summarize([_run([0.01, 0.02, 0.03], 100.0, 50.0, 80.0), _run([0.02], 80.0, 52.0, 90.0)])
    assert lg["first_event_s"] == pytest.approx(0.85)  # median of the 4 pooled samples
    assert lg["runs_per_s"] == pytest.approx(11.0)  # median of the per-run figures
    assert report.ratio("first_event_s", lg, ag) == pytest.approx(0.85 / 0.02)
    assert report.ratio("runs_per_s", lg, ag) == pytest.approx(90.0 / 11.0)  # a rate: ag / lg
    assert report.ratio("rss_idle_mb", lg, ag) == pytest.approx(119.0 / 51.0)
    info = {"config": {"runs": 2, "streams": 3, "idle_s": 1.0, "bg_runs": 200, "concurrency": 20,
                       "n_jobs_per_worker": 10}}  # fmt: skip
    table = report.markdown({"lg": lg, "ag": ag}, info)
    assert "| `runs.stream`, idle server: first event | 850.0 ms | 20.0 ms | 42.5× |" in table
    assert "| background runs (`runs.create` + `join`) | 11.0 runs/s | 90.0 runs/s | 8.2× |" in table
    assert "| server RSS, idle after start-up | 119.0 MiB | 51.0 MiB | 2.3× |" in table
    assert "`--n-jobs-per-worker 10` on both" in table


def test_a_failed_run_or_a_wrong_result_scores_no_ratio() -> None:
    lg = report.summarize([_run([1.0], 10.0, 120.0, 200.0)])
    ag = report.summarize([_run([0.01], 100.0, 50.0, 80.0, wrong=3)])
    assert report.ratio("runs_per_s", lg, ag) is None
    # the streams checked their own results: their figures still compare
    assert report.ratio("first_event_s", lg, ag) == pytest.approx(100.0)
    table = report.markdown({"lg": lg, "ag": ag}, {"config": {
        "runs": 1, "streams": 1, "idle_s": 1.0, "bg_runs": 200, "concurrency": 20}})
    assert "| ✗ 100.0 runs/s | — |" in table
    assert "**actorgraph: 3 background runs returned a wrong result**, e.g. `bad`; `bad`; `bad`" in table
    crashed = report.summarize([{"status": "error", "error": "ServerFailed: exited with 1"}])
    assert crashed["failures"] == ["ServerFailed: exited with 1"]
    assert report.ratio("first_event_s", lg, crashed) is None
    assert "**actorgraph: 1/1 runs failed**: ServerFailed: exited with 1" in report.markdown(
        {"lg": lg, "ag": crashed}, {"config": {
            "runs": 1, "streams": 1, "idle_s": 1.0, "bg_runs": 200, "concurrency": 20}})


def test_tree_rss_counts_a_child_process() -> None:
    alone = tree_rss_bytes(os.getpid())
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; b = bytearray(64 << 20); time.sleep(30)"]
    )
    try:
        grew = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until the child has touched its 64 MiB
            grew = tree_rss_bytes(os.getpid()) - alone
            if grew > 60 << 20:
                break
            time.sleep(0.05)
        assert grew > 60 << 20, grew
    finally:
        child.kill()
        child.wait()
