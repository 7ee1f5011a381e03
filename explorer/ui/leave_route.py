"""POST /le/leave: the training owner's page says it is closing (static/train_owner.js sends the owner token with
`navigator.sendBeacon` as the page goes away), so the run stops within seconds instead of training for nobody.

A reload sends it too, and comes back: `TrainingSession.leaving` waits LEAVE_GRACE_S for the page to be heard
from again before it counts the owner as gone. The body is the token alone (at most MAX_TOKEN bytes); a
token that owns nothing changes nothing, and the answer never says which (204 either way).
"""
from __future__ import annotations

from starlette.responses import PlainTextResponse, Response

PATH = "/le/leave"
MAX_TOKEN = 128


class OwnerLeaving:
    """ASGI middleware answering POST PATH with `leaving(token)`; everything else goes to `app`."""

    def __init__(self, app, leaving):
        self.app, self.leaving = app, leaving

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        response = await self._answer(scope, receive)
        await response(scope, receive, send)

    async def _answer(self, scope, receive) -> Response:
        if scope["method"] != "POST":
            return PlainTextResponse("Only POST.", 405, headers={"Allow": "POST"})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_TOKEN:
                return PlainTextResponse(f"An owner token is at most {MAX_TOKEN} bytes.", 413)
            if not message.get("more_body"):
                break
        token = body.decode("ascii", errors="replace").strip()
        if token:
            import anyio
            await anyio.to_thread.run_sync(self.leaving, token)      # the session's lock may be held by a Start
        return Response(status_code=204)
