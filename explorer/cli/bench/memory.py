"""`python -m explorer.bench memory`: the server's memory under thousands of API calls (a soak).

Starts `python app.py` (as a user runs it), fills Gradio's per-session store with twice its
capacity of plain-HTTP calls (each one a session of its own, as a script's calls are), then makes
`calls` more, 16 at a time, and reports the server's RSS before and after and the growth per call.
A leak shows as kilobytes per call that do not level off: before the session store was bounded,
2 000 calls grew the server by 571 MB (about 285 kB a call). The tests make a few hundred calls
against the same limit; this is the long run.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from explorer.cli.bench.http import AppProcess, running
from explorer.explore.limits import SESSION_CAPACITY


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def api_calls(url: str, n: int, concurrency: int = 16) -> float:
    """n calls of /ping through the queue over plain HTTP; returns the calls per second."""
    import httpx
    api = url.rstrip("/") + "/gradio_api/call/ping"
    sem = asyncio.Semaphore(concurrency)

    async def one(client):
        async with sem:
            r = await client.post(api, json={"data": []})
            r.raise_for_status()
            stream = await client.get(f"{api}/{r.json()['event_id']}")
            if "event: complete" not in stream.text:
                raise RuntimeError(f"/ping did not complete: {stream.text[-200:]}")

    t0 = time.perf_counter()
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        await asyncio.gather(*[one(client) for _ in range(n)])
    return n / (time.perf_counter() - t0)


def memory(quick: bool = False, calls: int | None = None, checkpoints_dir: Path | None = None,
           warm: int | None = None, app: AppProcess | None = None) -> dict:
    """RSS of a fresh `python app.py` (or of `app`, running already) before and after `calls` API calls
    (default 10 000; quick: 200), after `warm` calls (default: twice the session store's capacity, so
    that it is full)."""
    calls = calls or (200 if quick else 10_000)
    warm = 2 * SESSION_CAPACITY if warm is None else warm
    with running(app, checkpoints_dir) as served:
        pid = served.proc.pid
        start = rss_mb(pid)
        asyncio.run(api_calls(served.url, warm))                # the session store is full from here on
        before = rss_mb(pid)
        rate = asyncio.run(api_calls(served.url, calls))
        after = rss_mb(pid)
    return {"calls": calls, "warm_up_calls": warm, "session_capacity": SESSION_CAPACITY, "calls_per_s": rate,
            "rss_start_mb": start, "rss_before_mb": before, "rss_after_mb": after, "grown_mb": after - before,
            "kb_per_call": (after - before) * 1024 / calls}
