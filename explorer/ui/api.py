"""Named API endpoints (gradio_client or plain HTTP): render, interpolate, map_select, models, ping.

Each one is a thin wrapper that validates and calls the Workspace; errors come back as gr.Error
with the same plain message the UI shows.
"""
from __future__ import annotations

import functools

import gradio as gr

from explorer.core.checkpoints import CheckpointError
from explorer.core.imaging import gif_data_url, png_data_url
from explorer.core.validation import UserError
from explorer.explore.workspace import Recipe, Workspace


def register(ws: Workspace, worker=None) -> None:
    def guard(fn):
        @functools.wraps(fn)      # keeps the signature: gradio reads the parameters from it
        def wrapped(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (UserError, CheckpointError, ValueError, TypeError, RuntimeError) as exc:
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
        # every value is checked (and typed) by check_recipe: each refusal names the value and its range
        r = ws.check_recipe(Recipe(str(model), seed, temperature, sliders or (), direction or "", amount, base or ()))
        image, z = ws.render(r)
        return {"image": png_data_url(image), "latent": [float(v) for v in z], "recipe": r.to_text()}

    def interpolate(model: str, start: list, end: list, frames: int = 10) -> dict:
        """Linear and spherical paths between two latents. Returns frames as PNG data URLs, an animated GIF
        (data URL, linear left / spherical right) and the latent length along each path."""
        import numpy as np
        res = ws.interpolate(str(model), start, end, frames)
        return {"linear": [png_data_url(im) for im in res["linear"]],
                "spherical": [png_data_url(im) for im in res["spherical"]],
                "gif": gif_data_url(np.concatenate([res["linear"], res["spherical"]], axis=2)),
                "linear_norm": res["linear_norm"].tolist(), "spherical_norm": res["spherical_norm"].tolist()}

    def map_select(model: str, index: int) -> dict:
        """A point of the model's map: its label, latent and pictures (test image for a VAE, and the decoding)."""
        item = ws.map_item(str(model), index)
        out = {"index": item["index"], "label": item["label"], "latent": [float(v) for v in item["latent"]],
               "decoded": png_data_url(item["decoded"])}
        if item["original"] is not None:
            out["original"] = png_data_url(item["original"])
        return out

    def train_2d_start(dataset: str = "ring", loss: str = "non-saturating", lr_g: float = 1e-3, lr_d: float = 1e-3,
                       k: int = 1, batch_size: int = 128, noise_dim: int = 2) -> dict:
        """Start a live 2-D GAN run on the app's trainer (refused while another visitor's run is going)."""
        from explorer.live.settings import ToySettings, toy_trainer
        from explorer.live.worker import RunInfo
        t = toy_trainer(ToySettings(dataset, loss, lr_g, lr_d, k, batch_size, noise_dim), ws.registry.device)
        worker.on_report = None
        worker.start(t, RunInfo("toy_gan", "api", f"2-D GAN on {dataset}, {loss} loss (API)"))
        return train_status()

    def train_status() -> dict:
        """The live run: state, step, steps/s and the latest readings (D(x), D(G(z)), losses)."""
        snap = worker.snapshot()
        last = snap.pop("history")[-1:] or [{}]
        return {**snap, "latest": last[0]}

    def train_stop() -> dict:
        """Stop the run started through the API."""
        worker.stop("api")
        return train_status()

    endpoints = [(ping, None), (models, None), (render, None), (interpolate, 4), (map_select, None)]
    if worker is not None:
        endpoints += [(train_2d_start, 1), (train_status, None), (train_stop, 1)]
    for fn, limit in endpoints:
        gr.api(guard(fn), api_name=fn.__name__, concurrency_limit=limit, queue=True)
