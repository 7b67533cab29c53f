"""actorgraph's public module tree against the pinned LangGraph release's, name by name.

``tests/data/langgraph_public_tree.json`` lists every public module of the ``langgraph``
namespace as LangGraph 1.2.24 installs it (with langgraph-checkpoint 4.3.2,
langgraph-checkpoint-sqlite 3.1.2, langgraph-prebuilt 1.1.3) and each module's public names
(``tests/public_tree.py`` made it, run under real LangGraph: CI has no LangGraph to ask).
Every one must exist at the same path under ``actorgraph`` - which is also where
``install_as_langgraph()`` looks - except the deliberate absences below, each with its reason.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

DATA = json.loads((Path(__file__).parent / "data" / "langgraph_public_tree.json").read_text())
REFERENCE: dict[str, list[str]] = DATA["modules"]

# Modules we deliberately don't have, and why.
ABSENT_MODULES: dict[str, str] = {
    # generative UI messages for LangGraph Platform's Agent Chat UI: needs the server's UI
    # message stream, which actorgraph's server doesn't serve yet
    "langgraph.graph.ui": "generative UI (push_ui_message) needs server support we don't have yet",
    # its __version__ is LangGraph's release number; under the alias a library comparing it
    # would read actorgraph's (0.1.0) and take the wrong branch: a missing module is honest
    "langgraph.version": "LangGraph's version number; actorgraph's is actorgraph.__version__",
}

# Names of modules we have, deliberately absent, and why.
_DEBUG_INTERNALS = "the internals of LangGraph's debug stream (its loop's task and checkpoint records)"
_SQL_INTERNALS = "LangGraph's own SQL builders for its delta-channel history queries"
ABSENT_NAMES: dict[tuple[str, str], str] = {
    **{
        ("langgraph.pregel.debug", name): _DEBUG_INTERNALS
        for name in (
            "TaskStatus",
            "filter_to_user_tags",
            "map_debug_checkpoint",
            "map_debug_task_results",
            "patch_checkpoint_map",
            "read_channels",
            "read_task_statuses",
            "tasks_w_writes",
        )
    },
    **{
        (module, name): _SQL_INTERNALS
        for module in ("langgraph.checkpoint.sqlite", "langgraph.checkpoint.sqlite.aio")
        for name in ("build_delta_channels_writes_history", "build_delta_stage2_sql", "step_walk_with_row")
    },
    ("langgraph.store.sqlite.base", "BaseSqliteStore"): "the shared base of LangGraph's two SQLite stores (ours share code differently)",
    ("langgraph.store.sqlite.base", "PreparedGetQuery"): "a query record of LangGraph's SQLite store internals",
}


def _ours(module: str) -> str:
    return "actorgraph" + module[len("langgraph") :]


def test_the_reference_is_the_pinned_release() -> None:
    assert DATA["versions"]["langgraph"] == "1.2.24"
    assert DATA["unimportable"] == {}
    assert len(REFERENCE) > 60 and "langgraph.types" in REFERENCE and "Command" in REFERENCE["langgraph.types"]


@pytest.mark.parametrize("module", sorted(REFERENCE))
def test_every_public_module_and_name_exists(module: str) -> None:
    if module in ABSENT_MODULES:
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(_ours(module))
        return
    ours = importlib.import_module(_ours(module))
    missing = [n for n in REFERENCE[module] if not hasattr(ours, n) and (module, n) not in ABSENT_NAMES]
    assert not missing, f"{_ours(module)} lacks LangGraph's public names: {missing}"
    # a listed absence that exists now is a stale entry
    stale = [n for (m, n) in ABSENT_NAMES if m == module and hasattr(ours, n)]
    assert not stale, f"{_ours(module)} has {stale} now: remove them from ABSENT_NAMES"


def test_every_listed_absence_is_in_the_reference() -> None:
    assert set(ABSENT_MODULES) <= set(REFERENCE)
    unknown = [(m, n) for (m, n) in ABSENT_NAMES if n not in REFERENCE.get(m, ())]
    assert not unknown


def test_the_walk_sees_a_missing_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk that made the reference finds modules (namespace folders included) and
    names a module defines; so an absence can't hide behind an empty list."""
    import public_tree

    pkg = tmp_path / "fakepkg"
    (pkg / "ns").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_private.py").write_text("def hidden(): pass\n")
    (pkg / "ns" / "mod.py").write_text(
        "from typing import Any\nfrom fakepkg._private import hidden\ndef shown(): pass\nclass K: pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = public_tree.tree("fakepkg")["modules"]
    assert found == {"langgraph": [], "langgraph.ns": [], "langgraph.ns.mod": ["K", "hidden", "shown"]}
