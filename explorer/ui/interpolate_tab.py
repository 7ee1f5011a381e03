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
from explorer.core.latent import angle_degrees, lerp_dip, norm_dip_sentence
from explorer.core.validation import UserError, check_int, check_seed
from explorer.explore.styles import w_and_z_paths, w_z_sentence
from explorer.explore.workspace import MAX_FRAMES, Workspace
from explorer.ui import texts, widgets
from explorer.ui.inputs import Dropdown, Number, Slider, clamped
from explorer.ui.wiring import Parts, event

SEED, EXPLORE, MAP, TEST = "Seed", "Explore picture", "Map dot", "Test picture"
MIRROR = "Mirror (−start)"     # the default end: where lerp and slerp differ most visibly (short: no cut-off label)
NUMBERED = (SEED, TEST)   # the sources that read the number box; for the others it is hidden
STYLE, CLASS = "Style: two latent points, one class", "Class: one latent point, two classes"
# the two strips' titles: (straight, great circle), and for a style-based model between two seeds (W, Z)
LABELS = (("**Straight line (linear)**", "**Great circle (spherical, slerp)**"),
          ("**In W, a straight line** (two seeds; other ends: a straight line and a great circle in W)",
           "**In Z, a great circle**, each point through the mapping network"))


def sources_for(encodes: bool, which: str = "start") -> list[str]:
    """A model without an encoder of its own (a GAN) cannot place a test picture: that source is offered
    only where it can (`encodes`: the family's inversion is "encode")."""
    srcs = [SEED, EXPLORE, MAP, TEST] if encodes else [SEED, EXPLORE, MAP]
    return srcs + [MIRROR] if which == "end" else srcs


def class_blend_sentence(ea: torch.Tensor, eb: torch.Tensor, name_a: str, name_b: str) -> str:
    """Plain words for a class blend: how far apart the two class vectors are and what lerp does to the middle."""
    dip, angle = lerp_dip(ea, eb), angle_degrees(ea, eb)
    return (f"The latent point stays; only the class vector moves from **{widgets.md_text(name_a, 40)}** to "
            f"**{widgets.md_text(name_b, 40)}**. The two class vectors are {angle:.0f}° apart, so halfway the straight "
            f"blend is {dip:.0%} as long as they are, while the great circle keeps their length. The pictures in "
            "between are mixtures the model was never asked for: no class name describes them.")


def norm_plot(result: dict, what: str = "latent", names=("straight line (lerp)", "great circle (slerp)")) -> go.Figure:
    t = result["t"]
    fig = go.Figure()
    fig.add_scatter(x=t, y=result["linear_norm"], name=names[0], mode="lines+markers")
    fig.add_scatter(x=t, y=result["spherical_norm"], name=names[1], mode="lines+markers")
    typical = {"latent": "typical length √d", "W offset": "a typical seed's length"}.get(what, "mean length of a class vector")
    fig.add_hline(y=result["typical_norm"], line_dash="dash", annotation_text=typical)
    top = max(float(np.max(result["linear_norm"])), float(np.max(result["spherical_norm"])), result["typical_norm"]) * 1.15
    fig.update_layout(height=260, margin=dict(l=40, r=10, t=10, b=40), xaxis_title="position along the path",
                      yaxis_title=f"length of the {what}", yaxis_range=[0, top], legend=dict(orientation="h", y=-0.35))
    return fig


class InterpolateTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def endpoint(self, model, which, source, value, explore_z, map_ends) -> tuple[torch.Tensor, str]:
        """One end of the path, checked: (latent (D,), how to name it in the sentence)."""
        m = self.ws.model(model)
        if source == SEED:
            seed = check_seed(value)
            return m.family.seed_latents(1, seed)[0], f"seed {seed}"
        if source == EXPLORE:
            if not explore_z:
                raise UserError("There is no Explore picture yet: open the Explore tab first.")
            return m.check_one_latent(explore_z, "The Explore picture's latent"), "the Explore picture"
        if source == MAP:
            end = (map_ends or {}).get(which)
            if not end:
                raise UserError(f"No map dot is chosen as the {which}: on the Map, click a dot, then "
                                f"“Use as interpolation {which}”.")
            return m.check_one_latent(end["latent"], "The map dot's latent"), end["label"]
        if source == TEST:
            return self.ws.dataset_latent(model, value), f"test picture {int(value)}"
        raise UserError(f"Unknown endpoint source {str(source)[:40]!r}.")

    def run(self, model, mode, class_a, class_b, src_a, val_a, src_b, val_b, frames, explore_z, map_ends):
        m = self.ws.model(model)
        notes: list[str] = []
        frames = check_int("Frames", clamped("Frames", frames, 2, MAX_FRAMES, notes), 2, MAX_FRAMES)
        if notes:                                  # a typed 1000 is made 64, and said so
            widgets.info(" ".join(notes))
        a, label_a = self.endpoint(model, "start", src_a, val_a, explore_z, map_ends)
        names = ("straight line (lerp)", "great circle (slerp)")          # the plot's two paths
        if m.num_classes and m.family.blends_classes and mode == CLASS:
            ca, cb = m.check_class(class_a, "From class"), m.check_class(class_b, "To class")
            res = self.ws.class_interpolate(model, a, ca, cb, frames)
            ea, eb = res["ends"]
            sentence = f"The style of **{label_a}**. " + class_blend_sentence(ea, eb, m.class_label(ca), m.class_label(cb))
            path, what = None, "class vector"     # the latent stays put: no path to draw on the map
        elif m.family.layer_groups() and src_a == SEED and src_b == SEED:     # a style-based model: W beside Z
            cls = m.check_class(class_a) if m.num_classes else None
            res = w_and_z_paths(m, check_seed(val_a), check_seed(val_b), frames, cls)
            res.update(linear=res["w"], spherical=res["z"], linear_norm=res["w_path"].norm(dim=1).numpy(),
                       spherical_norm=res["z_path"].norm(dim=1).numpy(), t=res["t"].numpy(),
                       typical_norm=m.family.typical_norm)
            sentence = f"From **seed {check_seed(val_a)}** to **seed {check_seed(val_b)}**. " + w_z_sentence(res)
            path = {"linear": res["w_path"].tolist(), "spherical": res["z_path"].tolist(), "class": cls,
                    "names": ["straight line in W", "great circle in Z"]}       # the Map's legend says which is which
            what, names = "W offset", ("in W (straight)", "in Z (great circle), mapped to W")
        else:
            if src_b == MIRROR:
                b, label_b = -a, f"its mirror image (every number of {label_a} negated)"
            else:
                b, label_b = self.endpoint(model, "end", src_b, val_b, explore_z, map_ends)
            cls = m.check_class(class_a) if m.num_classes else None
            res = self.ws.interpolate(model, a, b, frames, cls)
            in_class = f", drawn as **{widgets.md_text(m.class_label(cls), 40)}**" if cls is not None else ""
            sentence = f"From **{label_a}** to **{label_b}**{in_class}. " + norm_dip_sentence(a, b)
            path = {"linear": res["linear_path"].tolist(), "spherical": res["spherical_path"].tolist(), "class": cls}
            what = "latent"
        caps = [f"{t:.2f}" for t in res["t"]]
        side = np.concatenate([res["linear"], res["spherical"]], axis=2)        # (T, H, 2W, C): lerp | slerp
        key = (model, mode, class_a, class_b, tuple(a.tolist()), sentence, len(caps))
        gif = runtime.folder("gifs") / f"interpolation-{abs(hash(key)) % 10**10}.gif"
        gif.write_bytes(gif_bytes(side))
        return {"linear": widgets.strip(res["linear"], caps, 56), "spherical": widgets.strip(res["spherical"], caps, 56),
                "gif": str(gif), "gif_file": str(gif),
                "plot": gr.Plot(norm_plot(res, what, names), label=f"Length of the {what} along each path"),
                "sentence": sentence, "path": path, **({"frames": frames} if notes else {})}

    @staticmethod
    def number_box(source) -> dict:
        """The number box beside a source: shown only where that source reads it (a seed, a test picture)."""
        return gr.update(visible=source in NUMBERED, label="Test picture no." if source == TEST else "Seed")

    def on_source(self, src_a, src_b, mode=STYLE):
        return {"val_a": self.number_box(src_a), "val_b": self.number_box(src_b) if mode != CLASS else gr.update(visible=False)}

    def conditional_controls(self, model, mode=STYLE, class_a=0, class_b=1, src_b=MIRROR) -> dict:
        """The walk and class pickers: shown for a class-conditional model only (the walk between classes where its
        family has class vectors to blend); the end point only when it is used."""
        m = self.ws.model(model)
        cond = bool(m.num_classes)
        choices = [(label, c) for c, label in enumerate(m.class_labels())]
        blends = cond and m.family.blends_classes
        by_class = blends and mode == CLASS
        return {"mode": gr.update(visible=blends, value=mode if blends else STYLE),
                "class_a": gr.update(visible=cond, choices=choices, value=class_a if cond else None,
                                     label="From class" if by_class else "Class"),
                "class_b": gr.update(visible=by_class, choices=choices,
                                     value=min(class_b, m.num_classes - 1) if cond else None),
                "src_b": gr.update(visible=not by_class),
                "val_b": gr.update(visible=False) if by_class else self.number_box(src_b),
                "src_a": gr.update(label="Style from (one latent point)" if by_class else "Start")}

    def on_mode(self, model, mode, class_a, class_b, src_b=MIRROR):
        return self.conditional_controls(model, mode, class_a, class_b, src_b)

    def on_model(self, model):
        """A model switch: the old model's strips, plot and chosen map dots are cleared (their latents no longer fit)."""
        encodes = self.ws.model(model).family.inversion == "encode"
        out = {"linear": widgets.message("Press Interpolate.", "info"), "spherical": "", "gif": None,
               "gif_file": None, "plot": None, "sentence": "", "path": None, "map_ends": {},
               **self.conditional_controls(model)}
        out["src_a"] = gr.update(choices=sources_for(encodes, "start"), value=SEED, label="Start")
        out["src_b"] = gr.update(choices=sources_for(encodes, "end"), value=MIRROR, visible=True)
        out["val_a"] = self.number_box(SEED)
        layered = bool(self.ws.model(model).family.layer_groups())
        out["linear_label"], out["spherical_label"] = LABELS[layered]
        if layered:                   # W beside Z needs two seeds: the end is a seed too
            out["src_b"], out["val_b"] = gr.update(choices=sources_for(encodes, "end"), value=SEED, visible=True), \
                gr.update(visible=True, label="Seed", value=2)
        return out

    def take_map_dot(self, which: str, map_ends: dict | None, selection: dict | None) -> dict:
        """From the Map tab: store the selected dot as this end only (the other end keeps its own)."""
        if not selection:
            raise UserError("Click a dot on the map first.")
        ends = dict(map_ends or {})
        label = f"map dot #{selection['index']}" + (f" ({selection['label']})" if selection.get("label") else "")
        ends[which] = {"latent": selection["latent"], "label": label}
        return {"map_ends": ends, ("src_a" if which == "start" else "src_b"): MAP}

    def build(self, model, explore_z, path_state):
        p = self.parts = Parts(model=model, explore_z=explore_z, path=path_state,
                               map_ends=gr.State({}))     # {"start": {latent, label}, "end": {...}}: two map dots stay two
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=260):
                p.add(mode=gr.Radio([STYLE, CLASS], value=STYLE, label="Walk", visible=False, elem_id="interp-mode"))
                with gr.Row(elem_classes="le-compact"):
                    p.add(class_a=Dropdown(label="Class", choices=[], visible=False, elem_id="interp-class-a",
                                              min_width=120),
                          class_b=Dropdown(label="To class", choices=[], visible=False, elem_id="interp-class-b",
                                              min_width=120))
                with gr.Row(elem_classes="le-compact"):
                    p.add(src_a=Dropdown(sources_for(False), value=SEED, label="Start", elem_id="interp-src-a",
                                            min_width=120),
                          val_a=Number(precision=None, value=1, label="Seed", elem_id="interp-val-a",
                                          min_width=90))
                with gr.Row(elem_classes="le-compact"):
                    p.add(src_b=Dropdown(sources_for(False, "end"), value=MIRROR, label="End", elem_id="interp-src-b",
                                            min_width=120),
                          val_b=Number(precision=None, value=2, label="Seed", elem_id="interp-val-b",
                                          min_width=90, visible=False))
                p.add(frames=Slider(2, MAX_FRAMES, value=10, step=1, label="Frames", elem_id="interp-frames"),
                      go=gr.Button("Interpolate", variant="primary", elem_id="interp-run"),
                      gif=gr.Image(label="Animation: straight (left) and great circle (right)", type="filepath",
                                   elem_id="interp-gif", interactive=False, height=150),
                      gif_file=gr.File(label="Download the GIF", elem_id="interp-gif-file", height=60))
            with gr.Column(scale=3):
                p.add(linear_label=gr.Markdown(LABELS[0][0], elem_classes="le-label", elem_id="interp-linear-label"),
                      linear=gr.HTML(elem_id="interp-linear"),
                      spherical_label=gr.Markdown(LABELS[0][1], elem_classes="le-label", elem_id="interp-spherical-label"),
                      spherical=gr.HTML(elem_id="interp-spherical"), sentence=gr.Markdown(elem_id="interp-sentence"),
                      plot=gr.Plot(label="Length of the latent along each path", elem_id="interp-plot"))
                with gr.Accordion("What am I looking at?", open=False):
                    gr.Markdown(texts.INTERPOLATE + "\n\n" + texts.NORM_SENTENCE + "\n\n" + texts.INTERPOLATE_CONDITIONAL)
        self.run_event = event(p, self.run, ["model", "mode", "class_a", "class_b", "src_a", "val_a", "src_b", "val_b",
                                             "frames", "explore_z", "map_ends"],
                               ["linear", "spherical", "gif", "gif_file", "plot", "sentence", "path", "frames"],
                               errors_to="linear", toast=True, on_error={"spherical": ""}, show_progress="full")
        p["go"].click(**self.run_event)
        p["mode"].input(**event(p, self.on_mode, ["model", "mode", "class_a", "class_b", "src_b"],
                                ["mode", "class_a", "class_b", "src_a", "src_b", "val_b"]))
        for src in ("src_a", "src_b"):          # the number box only beside a source that reads it
            p[src].change(**event(p, self.on_source, ["src_a", "src_b", "mode"], ["val_a", "val_b"]))
        self.model_outputs = ["linear", "spherical", "gif", "gif_file", "plot", "sentence", "path", "map_ends", "src_a",
                              "src_b", "val_a", "val_b", "mode", "class_a", "class_b", "linear_label",
                              "spherical_label"]       # what on_model sets
