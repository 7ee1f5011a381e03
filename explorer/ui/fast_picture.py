"""GET /le/picture?recipe=...: one Explore picture as a PNG, outside Gradio's event queue.

What the Explore tab draws while a direction slider (or the named direction's amount) moves. A
Gradio event costs the page ~100 ms of main-thread work on a 2-core machine (Gradio 6 refreshes the
loading state of every component an event ever touched, each time an event starts and ends), so a
2-s drag through events showed 6-7 pictures. The page's script (`JS` below, run by page.py) asks
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


# The page's side: a direction slider or the amount moved (dragged, arrow keys, typed) asks for the
# picture of the newest values, one request at a time; a picture that comes back after the Explore
# picture was redrawn by an event (a release, a model switch) is dropped, never shown over it.
JS = """
(() => {
  let busy = false, wanted = null, shown = null;
  const sliderValue = (host, target) => {
    const el = host.contains(target) ? target : host.querySelector('input[type=range]');
    const x = el ? parseFloat(el.value) : NaN;
    return Number.isFinite(x) ? x : null;
  };
  const recipeNow = (target) => {
    // the address holds the shown picture's recipe (the share link); the recipe box is its fallback
    const box = document.querySelector('#explore-recipe textarea, #explore-recipe input');
    let r = null;
    try { r = JSON.parse(new URLSearchParams(location.search).get('recipe') || (box ? box.value : '')); }
    catch (err) { return null; }
    if (!r || typeof r !== 'object' || typeof r.model !== 'string') return null;
    const sliders = [];
    for (let i = 0; ; i++) {
      const host = document.getElementById('explore-slider-' + i);
      if (!host || !host.getClientRects().length) break;
      const x = sliderValue(host, target);
      if (x === null) return null;
      sliders.push(x);
    }
    r.sliders = sliders;
    const amount = document.getElementById('explore-amount');
    if (amount) { const a = sliderValue(amount, target); if (a !== null) r.amount = a; }
    delete r.names;
    return JSON.stringify(r);
  };
  let releases = 0;      // a picture asked for before the latest release is not shown
  let moves = 0;         // slider inputs so far
  const fetchPicture = (q) => fetch('le/picture?recipe=' + encodeURIComponent(q), {cache: 'no-store'});
  const showBlob = (img, blob) => {
    const url = URL.createObjectURL(blob), old = img.dataset.leFast;
    img.src = url;
    img.dataset.leFast = url;
    if (old) URL.revokeObjectURL(old);
  };
  // At a release the usual event redraws the picture, but a value that draws what the page last got
  // from the server changes nothing there, and a picture fetched while moving would stay. So while
  // such a picture is shown the page fetches the released value's picture itself; it is shown unless
  // the slider moved again or the event's own picture came first.
  const settle = async (q, asked) => {
    try {
      const res = await fetchPicture(q);
      if (!res.ok) return;
      const blob = await res.blob();
      const img = document.querySelector('#explore-image img');
      if (asked !== moves || !img || !img.dataset.leFast || img.src !== img.dataset.leFast) return;
      showBlob(img, blob);
    } catch (err) {}
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (wanted !== null && wanted !== shown) {
        const q = wanted, img = document.querySelector('#explore-image img'), asked = releases;
        const res = await fetchPicture(q);
        shown = q;
        if (!res.ok) break;                    // refused (a value out of range): the event says why
        const blob = await res.blob();
        if (asked !== releases) continue;          // let go meanwhile: the release's own picture stands
        if (!img || document.querySelector('#explore-image img') !== img) continue;   // redrawn meanwhile
        showBlob(img, blob);
      }
    } catch (err) {
    } finally { busy = false; }
  };
  const isSlider = (t) => t instanceof HTMLInputElement && t.closest('[id^="explore-slider-"], #explore-amount');
  document.addEventListener('input', (e) => {
    if (!isSlider(e.target)) return;
    moves++;
    const q = recipeNow(e.target);
    if (q !== null) { wanted = q; pump(); }
  }, true);
  // let go: the usual event draws the released value; nothing asked for before it may replace that
  const released = (e) => {
    if (!isSlider(e.target)) return;
    releases++;
    wanted = shown = null;
    const img = document.querySelector('#explore-image img'), q = recipeNow(e.target);
    if (img && img.dataset.leFast && img.src === img.dataset.leFast && q !== null) settle(q, moves);
  };
  document.addEventListener('pointerup', released, true);
  document.addEventListener('change', released, true);
  // arrow keys move a focused slider without the pointer: their end is its release (the picture and
  // the strip redrawn by the usual event), as a drag's end is
  const KEYS = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'];
  document.addEventListener('keyup', (e) => {
    const t = e.target;
    if (isSlider(t) && t.type === 'range' && KEYS.includes(e.key)) t.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
  }, true);
})();
"""
