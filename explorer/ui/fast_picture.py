"""GET /le/picture?recipe=...: one Explore picture as a PNG, outside Gradio's event queue.

What the Explore tab draws while a direction slider (or the named direction's amount) moves. A
Gradio event costs the page ~100 ms of main-thread work on a 2-core machine (Gradio 6 refreshes the
loading state of every component an event ever touched, each time an event starts and ends), so a
2-s drag through events showed 6-7 pictures. The page's script (static/fast_picture.js) asks
this route for the picture of the newest slider values instead, one request at a time, and swaps
it in; the slider's release runs the usual Gradio chain once (picture, recipe, strip, link).

The recipe is checked like a pasted recipe or a link (one `Workspace.recipe`, the same limits);
a refusal is a 400 with the reason in plain text, a bug a 500 that says "internal error (logged)".
The picture is a pure function of the recipe: no session, no state, nothing stored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.responses import PlainTextResponse, Response

from explorer.core.imaging import png_bytes
from explorer.core.validation import UserError
from explorer.explore.recipe import recipe_values

PATH = "/le/picture"
MAX_QUERY = 16 * 1024          # as uvicorn's request line; a longer recipe (a large base latent) waits for the release
log = logging.getLogger(__name__)


def recipe_png(ws) -> Callable[[str], bytes]:
    """recipe text -> PNG bytes of its picture, for workspace `ws` (checked like a pasted recipe)."""
    def render(text: str) -> bytes:
        image, _ = ws.render(ws.recipe(recipe_values(text)))
        return png_bytes(image)
    return render


class FastPicture:
    """ASGI middleware answering GET PATH with `render(recipe text)`; everything else goes to `app`.
    At most `limit` pictures are drawn at once (in worker threads); the rest wait their turn."""

    def __init__(self, app, render: Callable[[str], bytes], limit: int = 4):
        self.app, self.render, self.limit = app, render, limit
        self._limiter = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        response = await self._answer(scope)
        await response(scope, receive, send)

    async def _answer(self, scope) -> Response:
        import anyio
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Only GET.", 405, headers={"Allow": "GET, HEAD"})
        query = scope.get("query_string", b"")
        if len(query) > MAX_QUERY:
            return PlainTextResponse(f"The recipe is longer than {MAX_QUERY} bytes.", 414)
        text = parse_qs(query.decode("latin-1")).get("recipe", [""])[0]
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.limit)
        try:
            body = await anyio.to_thread.run_sync(self.render, text, limiter=self._limiter)
        except UserError as exc:
            return PlainTextResponse(str(exc), 400)
        except Exception:
            log.exception("picture for a recipe failed")
            return PlainTextResponse("internal error (logged)", 500)
        return Response(body, media_type="image/png",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})

