"""Serving the app: the one place that holds the launch settings (used by app.py and the tests),
and the limits that keep one client from hurting the others.

  - Request bodies: size, nesting depth and number of values, checked at the ASGI edge before
    Gradio reads them (request_limits.py); uploads have their own size limit, MAX_UPLOAD_MB.
  - Sessions: Gradio keeps per-session state for its last `state_session_capacity` sessions
    (default 10 000), and every API call is a session of its own; at ~0.4 MB each that grew the
    server by gigabytes under API load (measured: 571 MB more after 2 000 plain-HTTP calls).
    SESSION_CAPACITY bounds their number to 256, and gradio_sessions.py keeps each one lean (~30 kB:
    Gradio no longer renders the whole page's config into every new one). The cost: a browser tab
    idle while 256 newer sessions came and went loses its per-visitor state (selected map dot, last
    path) and starts afresh; its pictures and the models are unaffected.
  - Uploads: room in Gradio's folder reserved as they arrive, and never served back (upload_edge.py).
"""
from __future__ import annotations

from pathlib import Path

from starlette.middleware import Middleware

from explorer.core.validation import UserError
from explorer.explore.limits import SESSION_CAPACITY
from explorer.explore.uploads import MAX_UPLOAD_MB
from explorer.ui.request_limits import BodyLimit, QueueChecks, endpoints_of

CONCURRENCY = 8          # events running at once per event type (the CPU has few cores)


def check_address(host: str, port: int) -> None:
    """UserError at once, before any model is loaded, for a --host this computer cannot listen on or
    a --port another program holds (they used to end, minutes later, in tracebacks about other things)."""
    import errno
    import socket
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UserError(f"--host {host[:80]!r} is not an address or name this computer knows "
                        f"({getattr(exc, 'strerror', None) or exc}). Use 127.0.0.1 (this computer only) or "
                        "0.0.0.0 (every network).") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)     # as the server does: TIME_WAIT is no obstacle
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(f"Port {port} on {host} is in use: another program (perhaps another Latent Explorer) "
                                "listens there. Choose another with --port.") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise UserError(f"--host {host[:80]} is not an address of this computer. Use 127.0.0.1 (this computer "
                                "only) or 0.0.0.0 (every network).") from None
            raise UserError(f"Cannot listen on {host[:80]} port {port}: {exc.strerror or exc}.") from None


def _patient_url_ok(url: str, patience: float = 60.0) -> bool:
    """Gradio's start-up check that the new server answers, with patience: Gradio's own gives up at the
    first 3-s timeout and then refuses to start ("When localhost is not accessible..."), which happens
    on a busy machine (seen with the load average at 11 on 2 cores)."""
    import time

    import httpx
    end = time.monotonic() + patience
    while True:
        try:
            if httpx.head(url, timeout=5).status_code in (200, 401, 301, 302, 303, 307, 308):
                return True
        except httpx.HTTPError:
            pass
        if time.monotonic() > end:
            return False
        time.sleep(0.5)


def serve(demo, host: str = "127.0.0.1", port: int = 7860, share: bool = False, block: bool = True,
          quiet: bool = False, session_capacity: int = SESSION_CAPACITY) -> str:
    """Queue and launch `demo` with the app's settings; returns its local URL (after the server
    stopped, when `block`). `session_capacity`: how many sessions' state is kept (tests fill a
    smaller store)."""
    import gradio.networking

    from explorer.ui.page import css, page_js, theme
    from explorer.ui.plotly_html import PLOTLY_JS

    gradio.networking.url_ok = _patient_url_ok
    from explorer.ui import gradio_sessions
    from explorer.ui.gradio_files import keep_tidy

    gradio_sessions.install()     # a session (each page, each API call) no longer renders the whole app's config

    demo.queue(default_concurrency_limit=CONCURRENCY)
    keep_tidy()               # what nobody consumed of Gradio's files and the GIFs is deleted after an hour
    _, url, _ = demo.launch(server_name=host, server_port=port, share=share, prevent_thread_lock=not block,
                            quiet=quiet, show_error=False, allowed_paths=[str(PLOTLY_JS)], js=page_js(),
                            theme=theme(), css=css(),
                            max_file_size=f"{MAX_UPLOAD_MB}mb", state_session_capacity=session_capacity,
                            app_kwargs={"middleware": _middleware(demo)})
    return url


def _middleware(demo) -> list[Middleware]:
    """The request limits, the upload route's room and privacy (upload_edge.py), then the Explore tab's picture
    route (fast_picture.py) and the training owner's leaving route (leave_route.py) when the app has them."""
    from gradio.utils import get_upload_folder

    from explorer.ui.fast_picture import FastPicture
    from explorer.ui.leave_route import OwnerLeaving
    from explorer.ui.upload_edge import UploadEdge, UploadRoom
    out = [Middleware(BodyLimit, max_upload=(MAX_UPLOAD_MB + 1) * 1024 * 1024, endpoints=endpoints_of(demo)),
           Middleware(UploadEdge, room=UploadRoom(lambda: Path(get_upload_folder())), uploaded=lambda: demo.upload_file_set),
           Middleware(QueueChecks, events=lambda: demo.fns.keys(),
                      has_session=lambda s: demo._queue.pending_messages_per_session.get(s) is not None)]
    render = getattr(demo, "recipe_png", None)
    if render is not None:
        out.append(Middleware(FastPicture, render=render, limit=CONCURRENCY))
    session = getattr(demo, "train_session", None)
    if session is not None:
        out.append(Middleware(OwnerLeaving, leaving=session.leaving))
    return out
