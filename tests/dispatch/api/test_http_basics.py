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


async def test_the_bare_address_leads_to_the_consoles(http: aiohttp.ClientSession) -> None:
    async with http.get("/", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/console/"
    async with http.get("/") as response:  # where a browser ends up: the sign-in page
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "/console/" in str(response.url)


async def test_the_favicon_is_an_svg_icon(http: aiohttp.ClientSession) -> None:
    async with http.get("/favicon.ico") as response:
        assert response.status == 200
        assert response.content_type == "image/svg+xml"
        assert "max-age" in response.headers["Cache-Control"]
        assert (await response.read()).startswith(b"<svg ")
