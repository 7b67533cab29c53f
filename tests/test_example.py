"""The bundled example (the README's first command) runs and leaves its thread in SQLite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from actorgraph.checkpoint.sqlite import SqliteSaver
from actorgraph.examples.quickstart import build


def test_the_quickstart_pauses_resumes_and_saves_its_thread_to_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "qs.sqlite"
    out = subprocess.run(
        [sys.executable, "-m", "actorgraph.examples.quickstart", "--db", str(db)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("custom: {'researched':") == 5
    assert "paused before ('edit',)" in out.stdout
    assert "updates: {'edit': {'approved': True}}" in out.stdout
    thread = re.search(r"thread (research-[0-9a-f]+) done", out.stdout)
    assert thread is not None, out.stdout

    # what the example saved is there for a later process
    config = {"configurable": {"thread_id": thread.group(1)}}
    with SqliteSaver.from_conn_string(str(db)) as saver:
        snapshot = build(saver).get_state(config)
        history = list(build(saver).get_state_history(config))
    assert snapshot.next == ()
    assert snapshot.values["approved"] is True
    assert snapshot.values["revisions"] == 2
    assert sorted(snapshot.values["notes"]) == [
        "actors: 6 letters", "barriers: 8 letters", "channels: 8 letters",
        "cooperate: 9 letters", "synchronous: 11 letters",
    ]
    assert f"{len(history)} checkpoints saved in {db}" in out.stdout
