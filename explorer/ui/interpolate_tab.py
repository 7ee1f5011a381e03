"""Interpolate tab: linear and spherical paths between two endpoints, side by side, as strips, an
animated GIF to download, and the latent's length along each path, with a sentence saying how big the
difference is for the chosen pair and why. Start and end are stored separately (two map dots stay two).
A class-conditional model walks either the style (two latents, one class) or the class (one latent,
the class vector blended from one class to another), with the same straight/great-circle comparison."""
from __future__ import annotations

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import torch

from explorer.core import runtime
from explorer.core.imaging import gif_bytes
from explorer.core.latent import angle_degrees, lerp_dip, norm_dip_sentence, sample_z
from explorer.core.validation import UserError, check_seed
from explorer.explore.workspace import Workspace
from explorer.ui import texts, widgets

SEED, EXPLORE, MAP, TEST = "Seed", "Explore picture", "Map dot", "Test picture"
MIRROR = "Mirror of the start (−z)"     # the default end: where lerp and slerp differ most visibly
STYLE, CLASS = "Style: two latent points, one class", "Class: one latent point, two classes"


def sources_for(kind: str, which: str = "start") -> list[str]:
    """A GAN has no encoder: it cannot place a test picture, so that source is not offered for it."""
    srcs = [SEED, EXPLORE, MAP, TEST] if kind == "vae" else [SEED, EXPLORE, MAP]
    return srcs + [MIRROR] if which == "end" else srcs


def class_blend_sentence(ea: torch.Tensor, eb: torch.Tensor, name_a: str, name_b: str) -> str:
    """Plain words for a class blend: how far apart the two class vectors are and what lerp does to the middle."""
    dip, angle = lerp_dip(ea, eb), angle_degrees(ea, eb)
    return (f"The latent point stays; only the class vector moves from **{widgets.md_text(name_a, 40)}** to "
            f"**{widgets.md_text(name_b, 40)}**. The two class vectors are {angle:.0f}° apart, so halfway the straight "
            f"blend is {dip:.0%} as long as they are, while the great circle keeps their length. The pictures in "
            "between are mixtures the model was never asked for: no class name describes them.")


def norm_plot(result: dict, what: str = "latent") -> go.Figure:
    t = result["t"]
    fig = go.Figure()
    fig.add_scatter(x=t, y=result["linear_norm"], name="straight line (lerp)", mode="lines+markers")
    fig.add_scatter(x=t, y=result["spherical_norm"], name="great circle (slerp)", mode="lines+markers")
    fig.add_hline(y=result["typical_norm"], line_dash="dash",
                  annotation_text="typical length √d" if what == "latent" else "mean length of a class vector")
    top = max(float(np.max(result["linear_norm"])), float(np.max(result["spherical_norm"])), result["typical_norm"]) * 1.15
    fig.update_layout(height=260, margin=dict(l=40, r=10, t=10, b=40), xaxis_title="position along the path",
                      yaxis_title=f"length of the {what}", yaxis_range=[0, top], legend=dict(orientation="h", y=-0.35))
    return fig


class InterpolateTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def endpoint(self, model, which, source, value, explore_z, map_ends):
        if source == SEED:
            return sample_z(1, self.ws.model(model).latent_dim, check_seed(value))[0].tolist(), f"seed {int(value)}"
        if source == EXPLORE:
            if not explore_z:
                raise UserError("There is no Explore picture yet: open the Explore tab first.")
            return list(explore_z), "the Explore picture"
        if source == MAP:
            end = (map_ends or {}).get(which)
            if not end:
                raise UserError(f"No map dot is chosen as the {which}: on the Map, click a dot, then "
                                f"“Use as interpolation {which}”.")
            return list(end["latent"]), end["label"]
        if source == TEST:
            return self.ws.dataset_latent(model, value).tolist(), f"test picture {int(value)}"
        raise UserError(f"Unknown endpoint source {str(source)[:40]!r}.")

    def run(self, model, mode, cls_a, cls_b, src_a, val_a, src_b, val_b, frames, explore_z, map_ends):
        try:
            m = self.ws.model(model)
            a, label_a = self.endpoint(model, "start", src_a, val_a, explore_z, map_ends)
            if m.num_classes and mode == CLASS:
                res = self.ws.class_interpolate(model, a, cls_a, cls_b, frames)
                ea, eb = res["ends"]
                sentence = (f"The style of **{label_a}**. "
                            + class_blend_sentence(ea, eb, m.class_label(m.check_class(cls_a)), m.class_label(m.check_class(cls_b))))
                path, what = None, "class vector"     # the latent stays put: no path to draw on the map
            else:
                if src_b == MIRROR:
                    b, label_b = [-v for v in a], f"its mirror image (every number of {label_a} negated)"
                else:
                    b, label_b = self.endpoint(model, "end", src_b, val_b, explore_z, map_ends)
                cls = m.check_class(cls_a) if m.num_classes else None
                res = self.ws.interpolate(model, a, b, frames, cls)
                in_class = f", drawn as **{widgets.md_text(m.class_label(cls), 40)}**" if cls is not None else ""
                sentence = (f"From **{label_a}** to **{label_b}**{in_class}. "
                            + norm_dip_sentence(torch.tensor(a), torch.tensor(b)))
                path = {"linear": res["linear_path"].tolist(), "spherical": res["spherical_path"].tolist(), "class": cls}
                what = "latent"
        except UserError as exc:
            widgets.warn(str(exc))
            return {self.linear: widgets.message(str(exc)), self.spherical: ""}
        caps = [f"{t:.2f}" for t in res["t"]]
        side = np.concatenate([res["linear"], res["spherical"]], axis=2)        # (T, H, 2W, C): lerp | slerp
        key = (model, mode, cls_a, cls_b, tuple(a), sentence, len(caps))
        gif = runtime.folder("gifs") / f"interpolation-{abs(hash(key)) % 10**10}.gif"
        gif.write_bytes(gif_bytes(side))
        return {self.linear: widgets.strip(res["linear"], caps, 56), self.spherical: widgets.strip(res["spherical"], caps, 56),
                self.gif: str(gif), self.gif_file: str(gif),
                self.plot: gr.Plot(norm_plot(res, what), label=f"Length of the {what} along each path"),
                self.sentence: sentence, self.path_state: path}

    def conditional_controls(self, model, mode=STYLE, cls_a=0, cls_b=1) -> dict:
        """The walk and class pickers: shown for a class-conditional model only; the end point only when it is used."""
        m = self.ws.model(model)
        cond = bool(m.num_classes)
        choices = [(label, c) for c, label in enumerate(m.class_labels())]
        by_class = cond and mode == CLASS
        return {self.mode: gr.update(visible=cond, value=mode if cond else STYLE),
                self.class_a: gr.update(visible=cond, choices=choices, value=cls_a if cond else None,
                                        label="From class" if by_class else "Class"),
                self.class_b: gr.update(visible=by_class, choices=choices,
                                        value=min(cls_b, m.num_classes - 1) if cond else None),
                self.src_b: gr.update(visible=not by_class), self.val_b: gr.update(visible=not by_class),
                self.src_a: gr.update(label="Style from (one latent point)" if by_class else "Start")}

    def on_mode(self, model, mode, cls_a, cls_b):
        return self.conditional_controls(model, mode, cls_a, cls_b)

    def on_model(self, model):
        """A model switch: the old model's strips, plot and chosen map dots are cleared (their latents no longer fit)."""
        kind = self.ws.model(model).kind
        srcs = sources_for(kind, "start")
        out = {self.linear: widgets.message("Press Interpolate.", "info"), self.spherical: "", self.gif: None,
               self.gif_file: None, self.plot: None, self.sentence: "", self.path_state: None, self.map_ends: {},
               **self.conditional_controls(model)}
        out[self.src_a] = gr.update(choices=srcs, value=SEED, label="Start")
        out[self.src_b] = gr.update(choices=sources_for(kind, "end"), value=MIRROR, visible=True)
        return out

    def take_map_dot(self, which: str, ends: dict | None, selection: dict | None) -> dict:
        """From the Map tab: store the selected dot as this end only (the other end keeps its own)."""
        if not selection:
            widgets.warn("Click a dot on the map first.")
            return {self.map_ends: gr.update()}
        ends = dict(ends or {})
        label = f"map dot #{selection['index']}" + (f" ({selection['label']})" if selection.get("label") else "")
        ends[which] = {"latent": selection["latent"], "label": label}
        return {self.map_ends: ends, (self.src_a if which == "start" else self.src_b): MAP}

    def build(self, model, explore_z, path_state):
        self.path_state = path_state
        self.map_ends = gr.State({})          # {"start": {latent, label}, "end": {...}}: two map dots stay two
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=260):
                self.mode = gr.Radio([STYLE, CLASS], value=STYLE, label="Walk", visible=False, elem_id="interp-mode")
                with gr.Row(elem_classes="le-compact"):
                    self.class_a = gr.Dropdown(label="Class", choices=[], visible=False, elem_id="interp-class-a", min_width=120)
                    self.class_b = gr.Dropdown(label="To class", choices=[], visible=False, elem_id="interp-class-b",
                                               min_width=120)
                with gr.Row(elem_classes="le-compact"):
                    self.src_a = gr.Dropdown(sources_for("dcgan"), value=SEED, label="Start", elem_id="interp-src-a", min_width=120)
                    self.val_a = gr.Number(value=1, precision=0, label="Seed / picture no.", elem_id="interp-val-a", min_width=90)
                with gr.Row(elem_classes="le-compact"):
                    self.src_b = gr.Dropdown(sources_for("dcgan", "end"), value=MIRROR, label="End", elem_id="interp-src-b", min_width=120)
                    self.val_b = gr.Number(value=2, precision=0, label="Seed / picture no.", elem_id="interp-val-b", min_width=90)
                frames = gr.Slider(2, 64, value=10, step=1, label="Frames", elem_id="interp-frames")
                go_btn = gr.Button("Interpolate", variant="primary", elem_id="interp-run")
                self.gif = gr.Image(label="Animation: straight (left) and great circle (right)", type="filepath",
                                    elem_id="interp-gif", interactive=False, height=150)
                self.gif_file = gr.File(label="Download the GIF", elem_id="interp-gif-file", height=60)
            with gr.Column(scale=3):
                gr.Markdown("**Straight line (linear)**", elem_classes="le-label")
                self.linear = gr.HTML(elem_id="interp-linear")
                gr.Markdown("**Great circle (spherical, slerp)**", elem_classes="le-label")
                self.spherical = gr.HTML(elem_id="interp-spherical")
                self.sentence = gr.Markdown(elem_id="interp-sentence")
                self.plot = gr.Plot(label="Length of the latent along each path", elem_id="interp-plot")
                with gr.Accordion("What am I looking at?", open=False):
                    gr.Markdown(texts.INTERPOLATE + "\n\n" + texts.NORM_SENTENCE + "\n\n" + texts.INTERPOLATE_CONDITIONAL)
        self.run_event = dict(fn=self.run, inputs=[model, self.mode, self.class_a, self.class_b, self.src_a, self.val_a,
                                                   self.src_b, self.val_b, frames, explore_z, self.map_ends],
                              outputs=[self.linear, self.spherical, self.gif, self.gif_file, self.plot, self.sentence,
                                       path_state], api_visibility="private")
        go_btn.click(**self.run_event)
        self.mode.input(self.on_mode, [model, self.mode, self.class_a, self.class_b],
                        [self.mode, self.class_a, self.class_b, self.src_a, self.src_b, self.val_b],
                        api_visibility="private", show_progress="hidden")
        self.model_refresh = dict(fn=self.on_model, inputs=model,
                                  outputs=[self.linear, self.spherical, self.gif, self.gif_file, self.plot, self.sentence,
                                           path_state, self.map_ends, self.src_a, self.src_b, self.val_b, self.mode,
                                           self.class_a, self.class_b],
                                  api_visibility="private", show_progress="hidden")
