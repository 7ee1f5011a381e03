"""Named API endpoints (gradio_client or plain HTTP): render, interpolate, map_select, models, ping.

Each one is a thin wrapper that validates and calls the Workspace; errors come back as gr.Error
with the same plain message the UI shows.
"""
from __future__ import annotations

import base64
import functools

import gradio as gr

from ..checkpoints import CheckpointError
from ..render import RenderError, png_data_url
from ..workspace import Recipe, Workspace, gif_bytes


def register(ws: Workspace) -> None:
    def guard(fn):
        @functools.wraps(fn)      # keeps the signature: gradio reads the parameters from it
        def wrapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (RenderError, CheckpointError, ValueError, TypeError) as exc:
                raise gr.Error(str(exc)) from None
        return wrapped

    def ping() -> str:
        """Does nothing: Gradio's own request floor, for benchmarks."""
        return "ok"

    def models() -> list:
        """Names of the explorable models."""
        return ws.model_names()

    def render(model: str, seed: int = 0, temperature: float = 1.0, sliders: list = None, direction: str = "",
               amount: float = 0.0, base: list = None) -> dict:
        """Render one picture from a recipe. Returns {image: PNG data URL, latent: [...], recipe: text}."""
        r = Recipe(str(model), int(seed), float(temperature), tuple(float(s) for s in (sliders or [])),
                   str(direction or ""), float(amount), tuple(float(v) for v in (base or [])))
        image, z = ws.render(r)
        return {"image": png_data_url(image), "latent": [float(v) for v in z], "recipe": r.to_text()}

    def interpolate(model: str, start: list, end: list, frames: int = 10) -> dict:
        """Linear and spherical paths between two latents. Returns frames as PNG data URLs, an animated GIF
        (data URL, linear left / spherical right) and the latent length along each path."""
        import numpy as np
        res = ws.interpolate(str(model), start, end, frames)
        gif = gif_bytes(np.concatenate([res["linear"], res["spherical"]], axis=2))
        return {"linear": [png_data_url(im) for im in res["linear"]],
                "spherical": [png_data_url(im) for im in res["spherical"]],
                "gif": "data:image/gif;base64," + base64.b64encode(gif).decode("ascii"),
                "linear_norm": res["linear_norm"].tolist(), "spherical_norm": res["spherical_norm"].tolist()}

    def map_select(model: str, index: int) -> dict:
        """A point of the model's map: its label, latent and pictures (test image for a VAE, and the decoding)."""
        item = ws.map_item(str(model), index)
        out = {"index": item["index"], "label": item["label"], "latent": [float(v) for v in item["latent"]],
               "decoded": png_data_url(item["decoded"])}
        if item["original"] is not None:
            out["original"] = png_data_url(item["original"])
        return out

    for fn, limit in ((ping, None), (models, None), (render, None), (interpolate, 4), (map_select, None)):
        gr.api(guard(fn), api_name=fn.__name__, concurrency_limit=limit, queue=True)
