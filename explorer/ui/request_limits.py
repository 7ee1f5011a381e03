"""The limits a request meets at the ASGI edge, before Gradio reads it: cheap checks of size and
shape, so no small request can freeze the server for everyone.

  - Size: at most MAX_BODY_KB for every route except uploads, which get MAX_UPLOAD_MB. A larger
    body is refused with 413 from its Content-Length header, before it is read (a 50 MB JSON body
    used to freeze every request for 10-30 s while it was parsed); a body without a length is
    counted as it arrives.
  - Shape: every other body is scanned as it arrives, byte by byte in C (regular expressions and
    `bytes.count`, never `json.loads`): more than MAX_DEPTH levels of nesting is refused with 400,
    more than MAX_ELEMENTS values with 413. Eight 0.65 MB bodies of 65 000 `[[[[0]]]]` each used
    to hold `/ping` up for 24 s on the 2-core machine while Gradio walked them; the API's largest
    input, two 1024-number latents, is about 2 000 values, 3 levels deep.
  - Gradio's queue (QueueChecks): a message stream for a session with no event, or an event number the
    app does not have, is answered 404 in words (Gradio logged a traceback for each).
  - Named API calls (`/gradio_api/call|run|api/<name>`): an unknown name is answered 404 with the
    list of endpoints (Gradio answered 500 with a traceback); too many values, or too few for the
    parameters without a default, 400 naming the parameters; missing trailing values that have a
    default get it, as gradio_client does (Gradio itself answered with a developer's message).
"""
from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs

MAX_BODY_KB = 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 20_000

_STRING_REST = re.compile(rb'(?:[^"\\]|\\.)*', re.DOTALL)     # up to a string's closing quote (or the chunk's end)
_OUTSIDE = re.compile(rb'[^"]*')                             # up to the next string
_BRACKETS = re.compile(rb"[\[\]{}]")
_UNBALANCED = "The request body is not valid JSON (a bracket closes that never opened)."
_NAMED_CALL = re.compile(r"^/gradio_api/(?:call|run|api)/(?!v2$)([^/]+)/?$")


class JsonShape:
    """A streaming scan of a JSON body's nesting depth and number of values (strings skipped whole).
    `feed` each chunk as it arrives; it returns (HTTP status, why) once the body is over a limit."""

    def __init__(self, max_depth: int = MAX_DEPTH, max_elements: int = MAX_ELEMENTS):
        self.max_depth, self.max_elements = max_depth, max_elements
        self.depth = self.elements = 0
        self.in_string = self.escaped = False

    def feed(self, data: bytes) -> tuple[int, str] | None:
        i, n = 0, len(data)
        while i < n:
            if self.in_string:
                if self.escaped:                 # the chunk before ended in a backslash
                    self.escaped, i = False, i + 1
                    continue
                i = _STRING_REST.match(data, i).end()
                if i == n:
                    break
                if data[i] == 0x5C:              # a backslash as the chunk's last byte
                    self.escaped, i = True, i + 1
                    continue
                self.in_string, i = False, i + 1   # the closing quote
            else:
                end = _OUTSIDE.match(data, i).end()
                why = self._structure(data, i, end)
                if why:
                    return why
                if end < n:                      # a string starts: it counts as one value
                    self.in_string, self.elements = True, self.elements + 1
                i = end + 1
        return None

    def _structure(self, data: bytes, i: int, end: int) -> tuple[int, str] | None:
        opens = data.count(b"[", i, end) + data.count(b"{", i, end)
        self.elements += data.count(b",", i, end) + opens
        if self.elements > self.max_elements:
            return 413, f"The request holds more than {self.max_elements} values; this server accepts at most that many."
        if self.depth + opens <= self.max_depth:
            self.depth += opens - data.count(b"]", i, end) - data.count(b"}", i, end)
            return None if self.depth >= 0 else (400, _UNBALANCED)
        for m in _BRACKETS.finditer(data, i, end):  # at most 2 x max_elements steps: opens are values
            self.depth += 1 if m.group() in (b"[", b"{") else -1
            if self.depth > self.max_depth:
                return 400, f"The request nests values more than {self.max_depth} levels deep; this server accepts at most that."
            if self.depth < 0:
                return 400, _UNBALANCED
        return None


@dataclass(frozen=True)
class Endpoint:
    """A named API endpoint's parameters, in order, and the defaults of the trailing optional ones."""
    name: str
    params: tuple[str, ...]
    defaults: tuple            # of the last len(defaults) parameters

    @classmethod
    def of(cls, name: str, fn) -> Endpoint:
        ps = list(inspect.signature(fn).parameters.values())
        return cls(name, tuple(p.name for p in ps), tuple(p.default for p in ps if p.default is not p.empty))

    def complete(self, body: bytes) -> tuple[bytes, tuple[int, str] | None]:
        """The body with the defaults of missing trailing values filled in, or (body, refusal)."""
        try:
            d = json.loads(body)               # safe now: its size and shape passed the scan
        except ValueError:
            return body, None                  # Gradio says what is wrong with it
        if not isinstance(d, dict) or not isinstance(d.get("data"), list):
            return body, None
        got, most, least = len(d["data"]), len(self.params), len(self.params) - len(self.defaults)
        if least <= got <= most:
            if got == most:
                return body, None
            d["data"] = d["data"] + list(self.defaults[got - least:])
            return json.dumps(d).encode(), None
        wanted = f"{least} to {most}" if least < most else str(most or "no")
        order = f" ({', '.join(self.params)}, in this order)" if self.params else ""
        return body, (400, f"/{self.name} takes {wanted} values{order}; got {got}.")


def endpoints_of(demo) -> dict[str, Endpoint]:
    """name -> Endpoint for the public API endpoints of a Gradio Blocks."""
    return {fn.api_name: Endpoint.of(fn.api_name, fn.fn) for fn in demo.fns.values()
            if fn.api_name and fn.api_visibility == "public" and fn.fn is not None}


class BodyLimit:
    """ASGI middleware: size, shape and (for named API calls) value count of a request body,
    refused before the app reads it. `endpoints`: the public API (None: names are not checked)."""

    def __init__(self, app, max_body: int = MAX_BODY_KB * 1024, max_upload: int = 201 * 1024 * 1024,
                 endpoints: dict[str, Endpoint] | None = None):
        self.app, self.max_body, self.max_upload, self.endpoints = app, max_body, max_upload, endpoints

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["path"].rstrip("/").endswith("/upload")
        limit = self.max_upload if upload else self.max_body
        endpoint = None
        named = _NAMED_CALL.match(scope["path"]) if scope["method"] == "POST" and self.endpoints is not None else None
        if named:
            endpoint = self.endpoints.get(named.group(1))
            if endpoint is None:
                listing = ", ".join(f"/{n}" for n in self.endpoints)
                return await answer(send, 404, f"Unknown endpoint {named.group(1)[:60]!r}. The endpoints are: {listing}.")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > limit
            except ValueError:
                too_large = True
            if too_large:
                return await answer(send, 413, _too_large(limit))
        shape = None if upload else JsonShape()
        held: list[bytes] | None = [] if endpoint else None      # a named call's body, completed at its end
        received, started, refused = 0, False, False

        async def checked_receive():
            nonlocal received, started, refused
            while True:
                message = await receive()
                if message["type"] != "http.request" or refused:
                    return message
                body = message.get("body", b"")
                received += len(body)
                why = (413, _too_large(limit)) if received > limit else (shape.feed(body) if shape else None)
                if why is None and held is not None:
                    held.append(body)
                    if message.get("more_body"):
                        continue
                    body, why = endpoint.complete(b"".join(held))
                    message = {"type": "http.request", "body": body, "more_body": False}
                if why is None:
                    return message
                if not started:                      # answer now; the app sees a client that left
                    await answer(send, *why)
                    started = True
                refused = True
                return {"type": "http.disconnect"}

        async def watched_send(message):
            nonlocal started
            if refused:                                  # the app's own answer to a body it never got
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, checked_receive, watched_send)
        except Exception:
            if not refused:      # after a refusal the app may complain that its client left: that is expected
                raise


class QueueChecks:
    """ASGI middleware: what Gradio's queue routes would answer with a traceback in the log, answered in
    words before they see it: a stream of messages (`/gradio_api/queue/data`) for a session that has
    sent no event (Gradio raised its 404 inside a response already started), and an event number
    (`fn_index`) the app does not have (Gradio's KeyError, a 500). `events`: the app's event numbers;
    `has_session`: whether a session has messages waiting (Gradio's queue)."""

    def __init__(self, app, events: Callable[[], Iterable[int]], has_session: Callable[[str], bool]):
        self.app, self.events, self.has_session = app, events, has_session

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"].rstrip("/")
        if scope["method"] == "GET" and path == "/gradio_api/queue/data":
            session = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("session_hash", [""])[0]
            if not self.has_session(session):
                return await answer(send, 404, "No events of this session are waiting: join the queue "
                                               "(/gradio_api/queue/join) first.")
        elif scope["method"] == "POST" and path == "/gradio_api/queue/join":
            held, more = [], True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return await self.app(scope, _replay([], message), send)
                held.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(held)
            why = self._unknown_event(body)
            if why:
                return await answer(send, 404, why)
            return await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], None,
                                                 receive), send)
        return await self.app(scope, receive, send)

    def _unknown_event(self, body: bytes) -> str | None:
        try:
            index = json.loads(body).get("fn_index")
        except (ValueError, AttributeError):
            return None                      # Gradio says what is wrong with it
        if index is None or (isinstance(index, int) and not isinstance(index, bool) and index in set(self.events())):
            return None
        return f"This app has no event number {str(index)[:20]}."


def _replay(messages: list, last, receive=None):
    """A `receive` that hands out `messages`, then `last` (if any), then the real `receive`."""
    queue = list(messages) + ([last] if last is not None else [])

    async def replayed():
        if queue:
            return queue.pop(0)
        return await receive()
    return replayed


def _too_large(limit: int) -> str:
    return f"The request body is larger than this route accepts ({limit // 1024} kB)."


async def answer(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
