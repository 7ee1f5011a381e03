"""Lean Gradio sessions.

Gradio keeps a session for each page a visitor opens and for each plain-HTTP API call. When it creates
one, Gradio 6 renders the configuration of every component of the app into it, kept for its "deep
links" (`/gradio_api/deep_link`, which this app does not offer): on this page of ~500 components that
was ~0.1 s of CPU and a few hundred kB per session, so the API served ~10 calls a second on 2 cores.
Here a session starts with none of them; Gradio still adds the entry of each component an event reads
or sets, as it did before (only those were ever changed). Everything else a session holds is as before.
"""
from __future__ import annotations

from gradio import state_holder


class _NothingToPrerender:
    """The app's Blocks as a new session sees it, with no component to render ahead of need."""

    def __init__(self, blocks):
        self._blocks = blocks
        self.blocks: dict = {}

    def __getattr__(self, name):
        return getattr(self._blocks, name)


def install() -> None:
    """Sessions made from now on start lean (idempotent)."""
    cls = state_holder.SessionState
    if getattr(cls, "_latent_explorer_lean", False):
        return
    stock = cls.__init__

    def __init__(self, blocks):
        stock(self, _NothingToPrerender(blocks))

    cls.__init__ = __init__
    cls._latent_explorer_lean = True
