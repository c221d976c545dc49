import aiohttp


async def test_healthz_answers_while_the_process_is_up(http: aiohttp.ClientSession) -> None:
    async with http.get("/healthz") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


async def test_readyz_reports_database_and_redis(http: aiohttp.ClientSession) -> None:
    async with http.get("/readyz") as response:
        assert response.status == 200
        assert (await response.json())["checks"] == {"database": "ok", "redis": "ok"}


async def test_unknown_route_is_404_json(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/no-such-thing") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"


async def test_wrong_method_is_405_json_with_allow(http: aiohttp.ClientSession) -> None:
    async with http.post("/healthz") as response:
        assert response.status == 405
        assert "GET" in response.headers["Allow"]
        assert (await response.json())["error"]["code"] == "method_not_allowed"


async def test_every_response_carries_a_request_id(http: aiohttp.ClientSession) -> None:
    async with http.get("/healthz", headers={"X-Request-Id": "call-42"}) as response:
        assert response.headers["X-Request-Id"] == "call-42"
    async with http.get("/healthz", headers={"X-Request-Id": "bad id with spaces"}) as response:
        assert response.headers["X-Request-Id"] != "bad id with spaces"
