"""API fuzzing with schemathesis over the whole OpenAPI schema, signed in with an API token of each role.

Each operation gets a bounded number of generated requests (``MAX_EXAMPLES``); every request is sent
as nobody and with a token of each role, and each answer must not be a server error and must keep to
what the schema declares for it (status, content type, headers, body). The scenario model is a fast
stand-in, so runs that are started finish at once.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from uec.access.tokens import create_token
from uec.config import get_settings
from uec.store import open_store
from uec.web import create_app, scenario_jobs, scenario_pages

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
web_fixture: Any = importlib.import_module("web_fixture")
scenario_tests: Any = importlib.import_module("test_web_scenarios")

#: Generated requests per operation (each sent once per role and once as nobody).
MAX_EXAMPLES = 5
ROLES = ("feed", "viewer", "analyst", "site_manager", "coordinator", "admin")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]

_tokens: dict[str, str] = {}
_store: list[Any] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The app over the web tests' store, with one token per role; the schema schemathesis reads from it."""
    path = web_fixture.build_web_store(tmp_path_factory.mktemp("fuzz") / "uec.duckdb")
    store = open_store(path)
    _store[:] = [store]
    for role in ROLES:
        org = "RAA" if role in ("site_manager", "feed") else "QXX"
        _tokens[role] = create_token(store, f"fuzz-{role}", role=role, org_code=org, days=1, actor_label="test")[1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UEC_CACHE_DIR", str(tmp_path_factory.mktemp("fuzz-cache")))
        mp.setenv("UEC_SECRET_KEY", "fuzz-secret-key-for-signing-cookies-0123456789")
        mp.setenv("UEC_STATE_DIR", str(tmp_path_factory.mktemp("fuzz-state")))
        mp.setattr(scenario_pages, "default_runner", scenario_tests.FakeModel())
        mp.setattr(scenario_pages, "default_fields", lambda: scenario_tests.FIELDS)
        get_settings.cache_clear()
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(path))
        get_settings.cache_clear()
    scenario_jobs.set_limits(4)


def settled(api_schema: Any) -> None:
    """Wait until the runs started have been saved. The in-process queue saves a run on its own
    thread, and on the embedded store a read in the middle of that write is answered 503 (store busy),
    which is the serving model's to remove (durable jobs, reads that never wait for writes), not this
    test's to fuzz."""
    deadline = time.monotonic() + 60
    while any(j.state in ("queued", "running") for j in scenario_jobs.list_jobs(_store[0], kind="scenario_run")):
        assert time.monotonic() < deadline, "scenario runs did not finish"
        time.sleep(0.02)


def test_the_api_keeps_to_its_schema_for_every_role(api_schema: Any) -> None:
    # One hypothesis run per operation (schemathesis.pytest.from_fixture does not work with this
    # pytest), collecting every operation's failure before failing, so one run shows them all.
    failures: dict[str, str] = {}
    seen: Counter[int] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    only = os.environ.get("UEC_FUZZ_ONLY")  # one operation's label, to look into a failure
    operations = [op for op in operations if not only or op.label == only] if only else operations
    assert len(operations) > 20 or only
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            seen[case.call_and_validate(checks=CHECKS).status_code] += 1
            for role in ROLES:
                response = case.call_and_validate(headers={"Authorization": f"Bearer {_tokens[role]}"}, checks=CHECKS)
                seen[response.status_code] += 1
                if response.status_code == 202:
                    settled(api_schema)

        try:
            run()
        except Exception as exc:  # each operation's failure is collected and reported below
            # A flaky failure wraps what happened the first time: show that.
            inner = getattr(exc, "exceptions", None) or [exc]
            failures[operation.label] = "\n".join(str(e)[:2000] for e in inner)
    # The requests reached past the refusals: answers of every kind came back (not only 401s).
    assert only or {200, 202, 400, 401, 403, 404, 422} <= set(seen), seen
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
