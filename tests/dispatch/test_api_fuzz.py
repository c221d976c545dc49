"""Schemathesis drives the API from its own OpenAPI document: no input may produce a 5xx,
and every response must fit the document."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

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


@pytest.mark.timeout(900)  # every endpoint is fuzzed: minutes on a shared 2-core machine
async def test_fuzzing_finds_no_server_error_and_no_response_outside_the_schema(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory, tmp_path: Path
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    for _ in range(3):  # some real ids for the path parameters to hit
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True, category=None))
        await call(http, "POST", "/api/v1/kb", admin, {"title": "居住证办理材料", "answer": "带身份证到派出所"})
    base = str(server.make_url("/")).rstrip("/")
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{base}/api/v1/openapi.json",
        "--url",
        base,
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {admin}",
        "--max-examples",
        os.environ.get("DISPATCH_FUZZ_EXAMPLES", "30"),
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
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=840)
    text = output.decode(errors="replace")
    failures = text[text.find("=== ERRORS") if "=== ERRORS" in text else text.find("=== FAILURES") :]
    assert process.returncode == 0, failures[:20000]
