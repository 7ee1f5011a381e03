"""Request shapes refused at the ASGI edge, before Gradio reads them: deep nesting and too many
values (while `/ping` keeps answering), unknown endpoints, too few or too many values, and one log
line (no traceback) for a refused call."""
from __future__ import annotations

import json
import logging
import random
import threading
import time

import httpx
import pytest

from explorer.ui.request_limits import MAX_DEPTH, MAX_ELEMENTS, JsonShape


def depth_and_values(value, depth=0) -> tuple[int, int]:
    """The nesting depth and the number of values (containers and scalars but the outermost) of parsed JSON."""
    if isinstance(value, (list, dict)):
        items = list(value.values()) + list(value.keys()) if isinstance(value, dict) else value
        inner = [depth_and_values(v, depth + 1) for v in items]
        return max([depth + 1] + [d for d, _ in inner]), len(items) + sum(n for _, n in inner)
    return depth, 0


def random_json(rng: random.Random, depth: int):
    if depth == 0 or rng.random() < 0.3:
        return rng.choice([0, -1.5e300, "plain", 'quo"te\\', "[[{{,,", "ünï\n", None, True])
    if rng.random() < 0.5:
        return [random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {f"k{i}[,": random_json(rng, depth - 1) for i in range(rng.randrange(3))}


def scan(body: bytes, cuts, **limits):
    shape = JsonShape(**limits)
    for a, b in zip([0, *cuts], [*cuts, len(body)]):
        why = shape.feed(body[a:b])
        if why:
            return why
    return None


def test_the_scan_agrees_with_a_parse_however_the_body_is_cut():
    rng = random.Random(0)
    for _ in range(300):
        body = json.dumps(random_json(rng, 6)).encode()
        depth, values = depth_and_values(json.loads(body))
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body), rng.randrange(6))))
        assert scan(body, cuts, max_depth=depth, max_elements=10**6) is None, body     # at the limit: accepted
        if depth:
            assert scan(body, cuts, max_depth=depth - 1, max_elements=10**6)[0] == 400, body
        if values > 2:               # the scan counts a value per comma, string and opening bracket
            assert scan(body, cuts, max_depth=99, max_elements=values // 2) is not None, body
    escaped = b'{"a": "\\\\", "b": "\\"[[[[[["}'       # a backslash that ends a chunk, escaped quotes
    for cut in range(len(escaped) + 1):
        assert scan(escaped, [cut], max_depth=1, max_elements=99) is None


def test_the_scan_is_bounded_by_the_limits_not_by_the_body():
    for body in (b"[" * 50_000 + b"0" + b"]" * 50_000, b"[" + b"[[[[0]]]]," * 65_000 + b"0]",
                 b"[" + b'"a",' * 200_000 + b"0]", b'"a"' * 300_000, b"[" * 20 + b"]" * 300_000):
        t0 = time.perf_counter()
        assert scan(body, [len(body) // 3]) is not None
        assert time.perf_counter() - t0 < 1.0       # loose: ~20 ms here; a Python loop per byte took seconds


def post(url: str, path: str, body: bytes):
    return httpx.post(url.rstrip("/") + path, content=body, headers={"content-type": "application/json"}, timeout=60)


def test_nested_and_crowded_bodies_are_refused_while_ping_answers(shared_app):
    url = shared_app.url
    deep = b'{"data": ["tiny_gan", 1, 1.0, ' + b"[" * 5_000 + b"0" + b"]" * 5_000 + b', "", 0.0, null, null]}'
    crowded = b'{"data": ["tiny_gan", 1, 1.0, [' + b"[[[[0]]]]," * 65_000 + b'0], "", 0.0, null, null]}'
    assert len(crowded) < 1024 * 1024
    answers, threads = [], []
    for body in [deep, crowded] * 4:
        threads.append(threading.Thread(target=lambda b=body: answers.append(post(url, "/gradio_api/call/render", b))))
        threads[-1].start()
    t0 = time.perf_counter()
    ping = post(url, "/gradio_api/run/ping", b'{"data": []}')
    ping_s = time.perf_counter() - t0
    for t in threads:
        t.join()
    assert ping.json()["data"] == ["ok"]
    print(f"\n8 nested bodies refused; a ping meanwhile answered in {ping_s * 1000:.0f} ms")
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [400] * 4 + [413] * 4, [r.text for r in answers]
    texts = {r.json()["detail"] for r in answers}
    assert texts == {f"The request nests values more than {MAX_DEPTH} levels deep; this server accepts at most that.",
                     f"The request holds more than {MAX_ELEMENTS} values; this server accepts at most that many."}
    latents = json.dumps({"data": ["tiny_gan", [0.5] * 12, [-0.5] * 12, 3, None]}).encode()
    assert post(url, "/gradio_api/call/interpolate", latents).status_code == 200      # ordinary calls pass


def test_named_calls_unknown_too_few_and_too_many(shared_app):
    url = shared_app.url
    unknown = post(url, "/gradio_api/call/nosuch", b'{"data": []}')
    assert unknown.status_code == 404 and "Unknown endpoint 'nosuch'. The endpoints are: /ping, /models, /render" \
        in unknown.json()["detail"]
    assert post(url, "/gradio_api/call/encode_1", b'{"data": []}').status_code == 404      # the page's own events too
    few = post(url, "/gradio_api/call/render", b'{"data": []}')
    assert few.status_code == 400 and few.json()["detail"] == (
        "/render takes 1 to 8 values (model, seed, temperature, sliders, direction, amount, base, class_index, "
        "in this order); got 0.")
    extra = post(url, "/gradio_api/run/render", json.dumps({"data": ["tiny_gan", 1, 1.0, [], "", 0.0, None, None, 9]})
                 .encode())
    assert extra.status_code == 400 and "got 9" in extra.json()["detail"]
    assert "/ping takes no values; got 1" in post(url, "/gradio_api/run/ping", b'{"data": [1]}').json()["detail"]
    short = post(url, "/gradio_api/run/render", b'{"data": ["tiny_gan", 3]}')       # the rest get their defaults
    assert short.status_code == 200 and '"seed": 3' in short.json()["data"][0]["recipe"]


def test_a_refused_call_logs_one_line_and_gradio_prints_no_traceback(caplog):
    import gradio as gr

    from explorer.core.validation import UserError
    from explorer.ui.api import guard

    def refuses():
        raise UserError("Unknown model 'x'.")
    with caplog.at_level(logging.INFO, logger="explorer.ui.api"), pytest.raises(gr.Error) as raised:
        guard(refuses)()
    assert not raised.value.print_exception and str(raised.value.message) == "Unknown model 'x'."
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records] == \
        [("INFO", "API call refuses refused: Unknown model 'x'.", None)]


def test_the_queue_answers_an_unknown_session_or_event_in_words_and_logs_no_traceback(shared_app, caplog):
    """Gradio raised its 404 inside a stream already started (uvicorn logged "Exception in ASGI application"
    and a traceback) and a KeyError for an event number the app does not have (a 500)."""
    url = shared_app.url.rstrip("/")
    with caplog.at_level(logging.ERROR):
        data = httpx.get(url + "/gradio_api/queue/data", params={"session_hash": "nobody-sent-anything"}, timeout=30)
        join = httpx.post(url + "/gradio_api/queue/join", json={"data": [], "fn_index": 99999, "session_hash": "s-99999"})
        time.sleep(0.5)                      # what the server logs after answering
    assert data.status_code == 404 and "join the queue" in data.json()["detail"]
    assert join.status_code == 404 and join.json()["detail"] == "This app has no event number 99999."
    assert not [r for r in caplog.records if r.exc_info or "Exception" in r.getMessage()], caplog.text[-2000:]
