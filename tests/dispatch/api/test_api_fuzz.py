"""Schemathesis drives the API from its own OpenAPI document: no input may produce a 5xx,
and every response must fit the document."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.dispatch.api.open311_schema import open311_schema
from tests.log_tap import unhandled

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance"


async def test_openapi_document_describes_every_api_route(http: aiohttp.ClientSession) -> None:
    status, document = await call(http, "GET", "/api/v1/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/assignments/{id}/acknowledge",
        "/api/v1/queue",
        "/api/v1/tickets/{id}/reroute",
    ):
        assert path in document["paths"]
    create = document["paths"]["/api/v1/tickets"]["post"]
    assert set(create["responses"]) >= {"201", "401", "403", "422"}


async def _schemathesis(schema: str, base: str, token: str, checks: str, examples: str, cwd: Path) -> str:
    """Run schemathesis on ``schema`` against ``base``: positive and negative data (``--mode
    all``), the coverage phase's boundary values of every path, query and body parameter
    (ids at bigint's edges, strings at their lengths, NUL bytes). Fails with its report."""
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        schema,
        "--url",
        base,
        "--checks",
        checks,
        "--mode",
        "all",
        "--generation-allow-x00",
        "true",
        "--header",
        f"Authorization: Bearer {token}",
        "--max-examples",
        examples,
        "--seed",
        os.environ.get("DISPATCH_FUZZ_SEED", "110"),
        "--phases",
        "examples,coverage,fuzzing",
        # One worker: Hypothesis parses lambda sources with `ast`, and in threaded use CPython 3.11
        # before 3.11.8 can lose count of the AST recursion depth and raise SystemError (gh-106905).
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--suppress-health-check",
        "all",
        "--no-color",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=cwd,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=840)
    text = output.decode(errors="replace")
    failures = text[text.find("=== ERRORS") if "=== ERRORS" in text else text.find("=== FAILURES") :]
    assert process.returncode == 0, failures[:20000]
    return text


@pytest.mark.timeout(900)  # every endpoint is fuzzed: minutes on a 2-core machine
async def test_fuzzing_finds_no_server_error_and_no_response_outside_the_schema(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory, tmp_path: Path, server_log: io.StringIO
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    for _ in range(3):  # some real ids for the path parameters to hit
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True, category=None))
        await call(http, "POST", "/api/v1/kb", admin, {"title": "居住证办理材料", "answer": "带身份证到派出所"})
    base = str(server.make_url("/")).rstrip("/")
    examples = os.environ.get("DISPATCH_FUZZ_EXAMPLES", "30")
    await _schemathesis(f"{base}/api/v1/openapi.json", base, admin, CHECKS, examples, tmp_path)
    assert unhandled(server_log.getvalue()) == []


@pytest.fixture
async def unlimited_server(settings: Settings, clean: None) -> AsyncIterator[TestServer]:
    """The service without its per-address rate limits, so that the fuzzer reaches the views."""
    roomy = settings.model_copy(
        update={
            "public_rate_limit": "100000/minute",
            "public_lookup_failure_limit": "100000/minute",
            "open311_rate_limit": "100000/minute",
            "open311_key_rate_limit": "100000/minute",
        }
    )
    server = TestServer(create_app(roomy), host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await server.close()


@pytest.mark.timeout(600)
async def test_fuzzing_open311_and_the_console_forms_finds_no_server_error(
    unlimited_server: TestServer, make_user: UserFactory, tmp_path: Path, server_log: io.StringIO
) -> None:
    # Open311 and the console's sign-in are not in the OpenAPI document (they are not /api/v1):
    # their parameters and form bodies are described here for schemathesis alone.
    _, partner = await make_user("partner")
    schema = tmp_path / "open311.json"
    schema.write_text(json.dumps(open311_schema(partner)))
    base = str(unlimited_server.make_url("/")).rstrip("/")
    examples = os.environ.get("DISPATCH_FUZZ_OPEN311_EXAMPLES", "15")
    await _schemathesis(str(schema), base, partner, "not_a_server_error", examples, tmp_path)
    assert unhandled(server_log.getvalue()) == []
