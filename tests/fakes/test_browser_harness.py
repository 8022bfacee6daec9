"""The browser harness itself: a page served on loopback, drawn by real headless Chromium."""
from __future__ import annotations

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

PAGE = """<!doctype html>
<html><head><title>Harness check</title></head>
<body><h1>Pipeline</h1>
<svg width="200" height="100" role="img" aria-label="bars">
  <rect id="bar" x="10" y="10" width="120" height="40" fill="steelblue"/>
</svg>
</body></html>"""


async def page(request: web.Request) -> web.Response:
    response = web.Response(text=PAGE, content_type="text/html")
    response.set_cookie("session", "abc123", httponly=True, samesite="Lax")
    return response


async def serve() -> LoopbackServer:
    app = web.Application()
    app.router.add_get("/", page)
    server = LoopbackServer()
    await server.serve(app)
    return server


async def test_a_page_with_an_svg_is_drawn_and_its_cookie_kept(browser):
    server = await serve()
    try:
        await browser.open(f"http://127.0.0.1:{server.port}/")

        assert await browser.status_of_last_page() == 200
        assert "Pipeline" in await browser.text()
        assert await browser.svg_count() == 1
        [bar] = await browser.find_all("svg rect#bar")
        assert (bar.width, bar.height) == (120, 40)
        session = (await browser.cookies())["session"]
        assert session["value"] == "abc123" and session["httpOnly"] is True
        shot = await browser.screenshot("svg-page")
        assert shot.read_bytes().startswith(b"\x89PNG")
    finally:
        await server.stop()


async def test_a_missing_page_shows_the_servers_404(browser):
    server = await serve()
    try:
        await browser.open(f"http://127.0.0.1:{server.port}/nowhere")

        assert await browser.status_of_last_page() == 404
        assert "404: Not Found" in await browser.text()  # aiohttp's own 404 body
        await browser.screenshot("not-found")
    finally:
        await server.stop()
