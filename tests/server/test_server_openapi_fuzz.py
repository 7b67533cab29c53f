"""schemathesis over the server's own ``/openapi.json``: every operation gets generated
requests, valid ones and invalid ones, against a real server; no answer may be a 5xx, and
every answer must match what the document says (status code, content type, body schema)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.server.conftest import Server, make_app_folder

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 10  # per operation and mode: the whole document in ~15 s here


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(make_app_folder(tmp_path_factory.mktemp("fuzz"))).start()
    try:
        yield srv
    finally:
        srv.stop()


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, failures: list[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        try:
            case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=10)
        except BaseException as exc:  # schemathesis' failure group: keep going, report all
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            failures.append(f"{operation.label} ({mode.value}): {exc}"[:1500])

    try:
        check()
    except Unsatisfiable:
        pass  # no invalid request exists for an operation without parameters or body


def test_every_operation_answers_as_its_openapi_document_says(server: Server) -> None:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    failures: list[str] = []
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, server.url, failures)
    assert {"POST /threads/{thread_id}/runs/stream", "PUT /store/items", "POST /assistants"} <= set(labels)
    assert {"POST /runs/crons", "POST /threads/{thread_id}/runs/crons", "POST /runs/crons/search", "POST /runs/crons/count",
            "GET /runs/crons/{cron_id}", "PATCH /runs/crons/{cron_id}", "DELETE /runs/crons/{cron_id}"} <= set(labels)
    assert failures == [], "\n\n".join(failures[:5])
