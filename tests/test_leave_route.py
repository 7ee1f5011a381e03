"""POST /le/leave (explorer/ui/leave_route.py): the training owner's closing page hands its token over; other
methods, oversized bodies and other paths are not its business."""
from __future__ import annotations

from explorer.ui.leave_route import MAX_TOKEN, OwnerLeaving
from tests.apphelpers import run_async


def call(method: str, path: str, body: bytes, chunks: int = 1):
    seen, passed, sent = [], [], []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    async def run():
        parts = [body[i::chunks] for i in range(chunks)] if chunks > 1 else [body]
        queue = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)]

        async def receive():
            return queue.pop(0) if queue else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
        await OwnerLeaving(app, seen.append)({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    run_async(run)                    # its own thread: a browser test's Playwright keeps a loop in this one
    status = next((m["status"] for m in sent if m["type"] == "http.response.start"), None)
    return status, seen, passed


def test_the_closing_page_hands_over_its_token():
    assert call("POST", "/le/leave", b" token-0123456789abcdef\n") == (204, ["token-0123456789abcdef"], [])
    assert call("POST", "/le/leave", b"") == (204, [], [])
    assert call("GET", "/le/leave", b"")[0] == 405
    assert call("POST", "/le/leave", b"x" * (MAX_TOKEN + 1), chunks=3) == (413, [], [])
    assert call("POST", "/gradio_api/queue/join", b"{}") == (None, [], ["/gradio_api/queue/join"])
