"""Interpolate tab: linear and spherical paths between two endpoints, side by side, as strips,
an animated GIF to download, and a plot of the latent's length along each path."""
from __future__ import annotations

import gradio as gr
import numpy as np
import plotly.graph_objects as go

from explorer.core import runtime
from explorer.core.imaging import gif_bytes
from explorer.core.validation import UserError, check_seed
from explorer.explore.workspace import Workspace
from explorer.ui import texts, widgets

SOURCES = ["Seed", "Explore picture", "Selected map dot", "Test image"]


def norm_plot(result: dict) -> go.Figure:
    t = result["t"]
    fig = go.Figure()
    fig.add_scatter(x=t, y=result["linear_norm"], name="linear (straight line)", mode="lines+markers")
    fig.add_scatter(x=t, y=result["spherical_norm"], name="spherical (slerp)", mode="lines+markers")
    fig.add_hline(y=result["typical_norm"], line_dash="dash", annotation_text="typical length √d")
    fig.update_layout(height=320, margin=dict(l=40, r=10, t=10, b=40), xaxis_title="position along the path",
                      yaxis_title="length of the latent vector", legend=dict(orientation="h", y=-0.3))
    return fig


class InterpolateTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def endpoint(self, model, source, value, explore_z, map_z):
        if source == "Seed":
            from explorer.core.latent import sample_z
            seed = check_seed(value or 0)
            return sample_z(1, self.ws.model(model).latent_dim, seed)[0].tolist()
        if source == "Explore picture":
            if not explore_z:
                raise UserError("There is no Explore picture yet: open the Explore tab first.")
            return list(explore_z)
        if source == "Selected map dot":
            if not map_z:
                raise UserError("No map dot is selected: click one on the Map tab first.")
            return list(map_z)
        if source == "Test image":
            return self.ws.dataset_latent(model, value).tolist()
        raise UserError(f"Unknown endpoint source {source!r}.")

    def run(self, model, src_a, val_a, src_b, val_b, frames, explore_z, map_z):
        try:
            a = self.endpoint(model, src_a, val_a, explore_z, map_z)
            b = self.endpoint(model, src_b, val_b, explore_z, map_z)
            res = self.ws.interpolate(model, a, b, frames)
        except (UserError, ValueError) as exc:
            widgets.warn(str(exc))
            return widgets.message(str(exc)), "", None, None, None, None
        n = len(res["t"])
        caps = [f"{t:.2f}" for t in res["t"]]
        side = np.concatenate([res["linear"], res["spherical"]], axis=2)        # (T, H, 2W, C): lerp | slerp
        path = runtime.folder("gifs") / f"interpolation-{abs(hash((model, tuple(a), tuple(b), n))) % 10**10}.gif"
        path.write_bytes(gif_bytes(side))
        path_state = {"linear": res["linear_path"].tolist(), "spherical": res["spherical_path"].tolist()}
        return (widgets.strip(res["linear"], caps, 64), widgets.strip(res["spherical"], caps, 64),
                str(path), str(path), norm_plot(res), path_state)

    def build(self, model, explore_z, map_z, path_state):
        with gr.Accordion("What am I looking at?", open=False):
            gr.Markdown(texts.INTERPOLATE)
        with gr.Row():
            with gr.Column():
                src_a = gr.Radio(SOURCES, value="Seed", label="Start", info=texts.TIPS["endpoint"], elem_id="interp-src-a")
                val_a = gr.Number(value=1, precision=0, label="Seed or test-image number", info=texts.TIPS["endpoint_value"], elem_id="interp-val-a")
            with gr.Column():
                src_b = gr.Radio(SOURCES, value="Seed", label="End", info=texts.TIPS["endpoint"], elem_id="interp-src-b")
                val_b = gr.Number(value=2, precision=0, label="Seed or test-image number", info=texts.TIPS["endpoint_value"], elem_id="interp-val-b")
            with gr.Column():
                frames = gr.Slider(2, 64, value=10, step=1, label="Frames", info=texts.TIPS["frames"], elem_id="interp-frames")
                go_btn = gr.Button("Interpolate", variant="primary", elem_id="interp-run")
        gr.Markdown("**Straight line (linear)**")
        lerp_strip = gr.HTML(elem_id="interp-linear")
        gr.Markdown("**Great circle (spherical, slerp)**")
        slerp_strip = gr.HTML(elem_id="interp-spherical")
        with gr.Row():
            gif = gr.Image(label="Animation: linear (left) and spherical (right)", type="filepath", elem_id="interp-gif",
                           interactive=False, height=300)
            with gr.Column():
                plot = gr.Plot(label="Length of the latent vector along each path")
                gr.Markdown(texts.NORM_SENTENCE)
                gif_file = gr.File(label="Download the GIF", elem_id="interp-gif-file")
        go_btn.click(self.run, [model, src_a, val_a, src_b, val_b, frames, explore_z, map_z],
                     [lerp_strip, slerp_strip, gif, gif_file, plot, path_state], api_visibility="private")
        self.src_a, self.src_b = src_a, src_b
