"""The server benchmark's harness (``python -m benchmarks.server``), without servers: one graph
source serves both sides by swapping import lines, the table's medians and ratios, and the
memory and CPU of a process tree read from ``/proc`` (a real one, and fake ones in tmp dirs)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

from benchmarks.server import graphs, report
from benchmarks.server.servers import tree_cpu_seconds, tree_pids, tree_rss_bytes


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
    assert json.loads(config.read_text()) == {
        "dependencies": ["."], "graphs": {"bench": "./graph.py:graph", "steps": "./steps.py:graph"}
    }  # fmt: skip
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


def _run(
    first: list[float], rps: float, idle: float, peak: float, wrong: int = 0,
    server_cpu: float = 2.0, client_cpu: float = 1.6,
) -> dict:  # fmt: skip
    """One server run's record as ``run.py`` writes it; 200 background runs."""
    samples = [{"first_event_s": f, "first_values_s": f + 0.001, "end_s": f + 0.01} for f in first]
    return {
        "status": "ok", "startup_s": 2.0, "rss_idle_mb": idle, "rss_peak_mb": peak,
        "first": {"cold": {"first_event_s": 1.5}, "samples": samples},
        "throughput": {"runs": 200, "runs_per_s": rps, "client_cpu_s": client_cpu,
                       "wrong": ["bad"] * wrong},
        "server_cpu": {"cpu_s": server_cpu, "processes_before": 1, "processes_after": 1},
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


def test_cpu_per_run_gives_the_server_rate_per_core_and_its_ratio() -> None:
    # LangGraph's tree spends 2.4 / 2.0 / 3.0 s over 200 runs; actorgraph's 0.4 / 0.5 / 0.3 s
    lg = report.summarize([_run([1.0], 50.0, 120.0, 200.0, server_cpu=c, client_cpu=1.6 + c / 10)
                           for c in (2.4, 2.0, 3.0)])  # fmt: skip
    ag = report.summarize([_run([0.01], 55.0, 50.0, 60.0, server_cpu=c, client_cpu=1.5)
                           for c in (0.4, 0.5, 0.3)])  # fmt: skip
    assert lg["server_cpu_per_run_s"] == pytest.approx(0.012)  # median 2.4 s / 200 runs
    assert lg["server_runs_per_cpu_s"] == pytest.approx(1 / 0.012)
    assert ag["server_cpu_per_run_s"] == pytest.approx(0.002)
    assert lg["client_cpu_per_run_s"] == pytest.approx(1.84 / 200)
    assert ag["client_cpu_per_run_s"] == pytest.approx(0.0075)
    # both server rows say the same: LangGraph's CPU per run over actorgraph's
    assert report.ratio("server_cpu_per_run_s", lg, ag) == pytest.approx(6.0)
    assert report.ratio("server_runs_per_cpu_s", lg, ag) == pytest.approx(6.0)
    assert report.ratio("client_cpu_per_run_s", lg, ag) is None  # the same client: no score
    table = report.markdown({"lg": lg, "ag": ag}, {"config": {
        "runs": 3, "streams": 1, "idle_s": 1.0, "bg_runs": 200, "concurrency": 20}})
    assert "| background runs: server CPU per run (process tree) | 12.0 ms | 2.0 ms | 6.0× |" in table
    assert "| background runs: server runs/s per CPU core | 83.3 runs/s | 500.0 runs/s | 6.0× |" in table
    assert "| background runs: client (`langgraph-sdk`) CPU per run | 9.2 ms | 7.5 ms | — |" in table
    # a side with wrong background results scores none of the background-run rows
    bad = report.summarize([_run([0.01], 55.0, 50.0, 60.0, wrong=1, server_cpu=0.4)])
    assert report.ratio("server_runs_per_cpu_s", lg, bad) is None
    assert "| 12.0 ms | ✗ 2.0 ms | — |" in report.markdown({"lg": lg, "ag": bad}, {"config": {
        "runs": 3, "streams": 1, "idle_s": 1.0, "bg_runs": 200, "concurrency": 20}})


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


def _fake_proc(root, procs: dict[int, tuple[int, str, tuple[int, int, int, int], int]],
               children: dict[int, dict[int, list[int]]] | None = None) -> None:  # fmt: skip
    """A ``/proc`` in ``root``: ``procs`` maps pid to (parent, command name, (utime, stime,
    cutime, cstime) in ticks, resident pages); ``children`` maps pid to {tid: child pids} for
    ``task/<tid>/children`` files (left out: a kernel without them)."""
    for pid, (ppid, name, (ut, st, cut, cst), pages) in procs.items():
        d = root / str(pid)
        (d / "task" / str(pid)).mkdir(parents=True)
        # fields 3..: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt,
        # then utime stime cutime cstime (14-17), then the rest
        rest = f"S {ppid} 1 1 0 -1 0 0 0 0 0 {ut} {st} {cut} {cst} 20 0 1 0 5 1000 {pages}"
        (d / "stat").write_text(f"{pid} ({name}) {rest}\n")
        (d / "statm").write_text(f"1000 {pages} 10 1 0 50 0\n")
    for pid, tasks in (children or {}).items():
        for tid, kids in tasks.items():
            (root / str(pid) / "task" / str(tid)).mkdir(parents=True, exist_ok=True)
            (root / str(pid) / "task" / str(tid) / "children").write_text(" ".join(map(str, kids)))


_TREE = {  # 10 -> 11 -> 13, 10 -> 12 (odd names), 20 outside the tree
    10: (1, "python", (100, 50, 30, 20), 1000),
    11: (10, "uvicorn worker", (40, 10, 0, 0), 500),
    12: (10, "a) (b", (7, 3, 0, 0), 200),
    13: (11, "python3", (5, 5, 0, 0), 100),
    20: (1, "other", (999, 999, 0, 0), 9999),
}
_TREE_TICKS = 100 + 50 + 30 + 20 + 40 + 10 + 7 + 3 + 5 + 5


def test_a_fake_proc_tree_without_children_files_is_found_by_parent_ids(tmp_path) -> None:
    _fake_proc(tmp_path, _TREE)
    assert sorted(tree_pids(10, proc=tmp_path)) == [10, 11, 12, 13]
    assert tree_pids(10, proc=tmp_path)[0] == 10
    # user + system of each process plus its reaped children's, in clock ticks
    assert tree_cpu_seconds(10, proc=tmp_path) == pytest.approx(_TREE_TICKS / os.sysconf("SC_CLK_TCK"))
    assert tree_cpu_seconds(13, proc=tmp_path) == pytest.approx(10 / os.sysconf("SC_CLK_TCK"))
    assert tree_rss_bytes(10, proc=tmp_path) == 1800 * os.sysconf("SC_PAGE_SIZE")


def test_a_fake_proc_tree_with_children_files_follows_every_thread_and_skips_the_gone(tmp_path) -> None:
    # 12 was forked by another thread (tid 15) of 10; 14 is listed but has exited since
    _fake_proc(tmp_path, _TREE, children={10: {10: [11], 15: [12, 14]}, 11: {11: [13]},
                                          12: {12: []}, 13: {13: []}})  # fmt: skip
    (tmp_path / "20" / "stat").write_text("20 (other) S 13 1 1")  # 20's parent is 13 in its stat,
    # but the children files are the source here: 13 lists none, so 20 is not counted
    assert sorted(tree_pids(10, proc=tmp_path)) == [10, 11, 12, 13, 14]
    assert tree_cpu_seconds(10, proc=tmp_path) == pytest.approx(_TREE_TICKS / os.sysconf("SC_CLK_TCK"))
    assert tree_rss_bytes(10, proc=tmp_path) == 1800 * os.sysconf("SC_PAGE_SIZE")


def test_tree_cpu_counts_a_busy_child_while_it_runs_and_after_it_was_reaped() -> None:
    before, own = tree_cpu_seconds(os.getpid()), time.process_time()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nt = time.process_time()\n"
         "while time.process_time() - t < 0.4: pass\nprint('done', flush=True)\ntime.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline() == "done\n"
        running = tree_cpu_seconds(os.getpid()) - before - (time.process_time() - own)
    finally:
        child.kill()
        child.wait()
    reaped = tree_cpu_seconds(os.getpid()) - before - (time.process_time() - own)
    assert running >= 0.35, running  # the child's ~0.4 s (its start-up adds a little)
    assert reaped >= running - 0.02, (running, reaped)  # now in this process's cutime
