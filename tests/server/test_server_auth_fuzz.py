"""schemathesis over ``/openapi.json`` with custom auth on and no credentials: every
operation, with valid and invalid requests, is refused (never a 2xx) but for the meta
endpoints LangGraph's server leaves open, and nothing answers a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.server.conftest import Server
from tests.server.test_server_auth import auth_app_folder

EXAMPLES = 5  # per operation and mode: refusals are cheap, the point is every operation
OPEN = {"GET /ok", "GET /info", "GET /metrics", "GET /openapi.json", "GET /docs"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(auth_app_folder(tmp_path_factory.mktemp("authfuzz"))).start()
    try:
        yield srv
    finally:
        srv.stop()


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, answers: list[tuple[str, int]]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        response = case.call(base_url=base_url, timeout=10)
        answers.append((operation.label, response.status_code))

    try:
        call()
    except Unsatisfiable:
        pass  # no invalid request exists for an operation without parameters or body


def test_no_operation_answers_without_credentials_and_none_fails(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    answers: list[tuple[str, int]] = []
    labels = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.add(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, server.url, answers)
    assert {"POST /threads/{thread_id}/runs/stream", "PUT /store/items", "POST /assistants", "GET /ok"} <= labels
    answered = {label for label, _ in answers}
    assert labels <= answered, f"never called: {labels - answered}"
    server_errors = [(label, status) for label, status in answers if status >= 500]
    let_in = [(label, status) for label, status in answers if 200 <= status < 300 and label not in OPEN]
    assert server_errors == []
    assert let_in == []
    refused = {label for label, status in answers if label not in OPEN}
    assert all(status == 401 for label, status in answers if label in refused)
