"""Train tab: the adversarial game live. 2-D mode (GAN Lab style, the teaching view) and image
mode (DCGAN/VAE on Fashion-MNIST or digits), both run by the app's one background worker."""
from __future__ import annotations

import html

import gradio as gr
import numpy as np

from explorer.core.data import TOY_NAMES
from explorer.explore.workspace import Workspace
from explorer.live.settings import (
    ImageSettings,
    QualityProbe,
    ToySettings,
    image_trainer,
    sample_grid,
    save_run,
    toy_trainer,
)
from explorer.live.toy_view import EXTENT, ToyView
from explorer.live.worker import RunInfo, TrainingWorker, WorkerBusy
from explorer.training import LOSSES
from explorer.ui import texts, widgets
from explorer.ui.map_tab import PLOTLY_JS

LIVE_JS = """
const draw = () => {
  const v = props.value, div = element.querySelector('.le-live');
  if (!div || !v || !v.data) return;
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  Plotly.react(div, v.data, v.layout, {displaylogo: false, responsive: true, staticPlot: false});
};
draw();
watch('value', draw);
"""


def toy_figure(f: dict) -> dict:
    ticks = f["ticks"].tolist()
    heat = f["heat"]
    if f["wgan"]:
        heat = (heat - heat.mean()) / (np.abs(heat).max() + 1e-8) * 0.5 + 0.5      # critic scores, centred
    data = [{"type": "heatmap", "x": ticks, "y": ticks, "z": np.round(heat, 3).tolist(), "zmin": 0, "zmax": 1,
             "colorscale": "RdBu", "reversescale": True, "zsmooth": "best", "opacity": 0.55, "showscale": True, "hoverinfo": "skip",
             "colorbar": {"title": {"text": "critic" if f["wgan"] else "D(x)"}, "len": 0.6}}]
    mesh = f["mesh"]
    lines_x, lines_y = [], []
    for grid in (mesh, mesh.transpose(1, 0, 2)):
        for row in grid:
            lines_x += row[:, 0].tolist() + [None]
            lines_y += row[:, 1].tolist() + [None]
    data.append({"type": "scatter", "mode": "lines", "x": lines_x, "y": lines_y, "name": "noise mesh",
                 "line": {"color": "rgba(90,90,90,0.45)", "width": 1}, "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "x": f["real"][:, 0].tolist(), "y": f["real"][:, 1].tolist(),
                 "name": "real data", "marker": {"size": 4, "color": "#111"}, "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "x": f["fake"][:, 0].tolist(), "y": f["fake"][:, 1].tolist(),
                 "name": "fakes G(z)", "marker": {"size": 5, "color": "#ff7f0e"}, "hoverinfo": "skip"})
    if "arrows" in f:
        ax, ay = [], []
        for (x, y), (dx, dy) in zip(f["fake"][::4], f["arrows"][::4]):
            ax += [x, x + dx, None]
            ay += [y, y + dy, None]
        data.append({"type": "scatter", "mode": "lines", "x": ax, "y": ay, "name": "push on fakes",
                     "line": {"color": "#c0392b", "width": 1}, "hoverinfo": "skip"})
    layout = {"height": 560, "margin": {"l": 30, "r": 10, "t": 10, "b": 30}, "uirevision": "toy",
              "xaxis": {"range": [-EXTENT, EXTENT]}, "yaxis": {"range": [-EXTENT, EXTENT], "scaleanchor": "x"},
              "legend": {"orientation": "h", "y": -0.08}}
    return {"data": data, "layout": layout}


def curves_figure(history: list[dict], wgan: bool, vae: bool) -> dict:
    steps = [h["step"] for h in history]
    series = ([("loss", "loss (negative ELBO)"), ("recon", "reconstruction"), ("kl", "KL")] if vae else
              [("critic_real", "critic on real"), ("critic_fake", "critic on fakes")] if wgan else
              [("d_real", "D(x): inspector on real"), ("d_fake", "D(G(z)): inspector on fakes")])
    data = [{"type": "scatter", "mode": "lines", "x": steps, "y": [h.get(k) for h in history], "name": name}
            for k, name in series]
    if not vae:
        data += [{"type": "scatter", "mode": "lines", "x": steps, "y": [h.get(k) for h in history], "name": n, "yaxis": "y2",
                  "line": {"dash": "dot"}} for k, n in (("loss_d", "inspector loss"), ("loss_g", "forger loss"))]
    shapes = [] if (vae or wgan) else [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                                        "line": {"dash": "dash", "color": "#888"}}]
    layout = {"height": 300, "margin": {"l": 40, "r": 40, "t": 10, "b": 30}, "uirevision": "curves", "shapes": shapes,
              "xaxis": {"title": {"text": "step"}}, "legend": {"orientation": "h", "y": -0.25},
              "yaxis": {"title": {"text": "loss" if vae else ("critic score" if wgan else "probability 'real'")}},
              "yaxis2": {"overlaying": "y", "side": "right", "title": {"text": "loss"}, "showgrid": False}}
    return {"data": data, "layout": layout}


class TrainTab:
    def __init__(self, ws: Workspace, worker: TrainingWorker):
        self.ws, self.worker = ws, worker
        self.data_meta: dict = {}

    # ---------------------------------------------------------------- 2-D
    def start_toy(self, dataset, loss, lr_g, lr_d, k, batch, noise, request: gr.Request):
        try:
            s = ToySettings(dataset, loss, float(lr_g), float(lr_d), int(k), int(batch), int(noise))
            t = toy_trainer(s, self.ws.registry.device)
            self.worker.on_report = None
            view = ToyView(t, dataset)
            self.worker.view_fn = view.frame
            self.worker.start(t, RunInfo("toy_gan", _owner(request), f"2-D GAN on {dataset}, {loss} loss"))
        except (WorkerBusy, ValueError) as exc:
            gr.Warning(str(exc))
        return self.refresh(request)

    # ---------------------------------------------------------------- images
    def start_images(self, dataset, model, loss, lr, k, batch, smoothing, request: gr.Request):
        try:
            s = ImageSettings(dataset, model, loss, float(lr), int(k), int(batch), 0.9 if smoothing else 1.0)
            t, ds, note = image_trainer(s, self.ws.registry.device)
            probe = None
            if ds.name == "fashion-mnist":
                probe = QualityProbe(self.ws.classifier(), ds.images[-1000:])
            self.worker.on_report = probe
            self.worker.view_fn = lambda: sample_grid(t)
            desc = f"{model.upper()} on {dataset} ({note})" + (f", {loss} loss" if model == "dcgan" else "")
            self.worker.start(t, RunInfo(model, _owner(request), desc))
            self.data_meta = {"name": ds.name, "split": ds.split, "size": len(ds), "class_names": ds.class_names}
        except (WorkerBusy, ValueError) as exc:
            gr.Warning(str(exc))
        return self.refresh(request)

    # ---------------------------------------------------------------- shared controls
    def control(self, action, request: gr.Request):
        owner = _owner(request)
        try:
            if action == "pause":
                self.worker.pause(owner)
            elif action == "play":
                self.worker.resume(owner)
            elif action == "stop":
                self.worker.stop(owner)
            elif action in ("d", "g"):
                self.worker.single_step(action, owner)
            elif action == "rollback":
                self.worker.rollback(owner)
        except (WorkerBusy, RuntimeError) as exc:
            gr.Warning(str(exc))
        return self.refresh(request)

    def save(self, title, request: gr.Request):
        try:
            self.worker.check_owner(_owner(request))
            path = save_run(self.worker, self.ws.registry.folder, title, self.data_meta)
        except (WorkerBusy, ValueError, RuntimeError) as exc:
            gr.Warning(f"Not saved: {exc}")
            return gr.update(), widgets.message(f"Not saved: {exc}")
        from explorer.ui.picker import choices
        gr.Info(f"Saved as {path.stem}: it is now in the model picker.")
        return gr.update(choices=choices(self.ws)), widgets.message(f"Saved as {path.stem}; pick it in the model list above.", "info")

    def refresh(self, request: gr.Request | None = None):
        snap = self.worker.snapshot()
        hist = snap["history"]
        last = hist[-1] if hist else {}
        live, curves, grid = gr.update(), gr.update(), gr.update()
        view = self.worker.view                 # computed by the training thread (see TrainingWorker.view_fn)
        extra = {}
        if snap["kind"] == "toy_gan" and isinstance(view, dict):
            live = toy_figure(view)
            extra = {"d_real": view["d_real"], "d_fake": view["d_fake"], "coverage_modes": view["coverage"]}
        elif snap["kind"] in ("dcgan", "vae") and isinstance(view, np.ndarray):
            imgs = view
            import torch

            from explorer.core.imaging import image_grid
            grid = widgets.picture(image_grid(torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(), 8), 420, "the same 64 noise vectors")
            curves = curves_figure(hist, self.worker.trainer.cfg.loss == "wgan-gp" if snap["kind"] == "dcgan" else False,
                                   snap["kind"] == "vae")
        text = readout(snap, last, extra, _owner(request) if request else None)
        return live, curves, grid, text, text, gr.Timer(active=snap["state"] == "running")

    # ---------------------------------------------------------------- layout
    def build(self, model_dropdown):
        with gr.Accordion("The forger and the inspector (what is a GAN?)", open=True):
            gr.Markdown(texts.TRAIN)
        with gr.Tabs():
            with gr.Tab("2-D points (watch the game)", id="train-2d"):
                with gr.Row():
                    with gr.Column(scale=3):
                        toy_plot = gr.HTML(value={}, html_template='<div class="le-live" style="width:100%;height:560px"></div>',
                                           js_on_load=LIVE_JS, head=f'<script src="/gradio_api/file={PLOTLY_JS}"></script>',
                                           elem_id="train-toy-plot")
                        gr.Markdown(texts.TRAIN_2D)
                        gr.Markdown(texts.TRAIN_COLLAPSE)
                    with gr.Column(scale=2):
                        toy_readout = gr.HTML(elem_id="train-toy-readout")
                        dataset = gr.Dropdown(list(TOY_NAMES), value="ring", label="Real data", info=texts.TIPS["toy_dataset"])
                        loss = gr.Radio(list(LOSSES), value="non-saturating", label="Loss", info=texts.TIPS["loss"])
                        with gr.Row():
                            lr_g = gr.Number(1e-3, label="Forger learning rate", info=texts.TIPS["lr_g"], minimum=1e-6, maximum=1)
                            lr_d = gr.Number(1e-3, label="Inspector learning rate", info=texts.TIPS["lr_d"], minimum=1e-6, maximum=1)
                        k = gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step", info=texts.TIPS["k"])
                        batch = gr.Dropdown([32, 64, 128, 256, 512], value=128, label="Batch size", info=texts.TIPS["batch"])
                        noise = gr.Slider(1, 8, value=2, step=1, label="Noise size", info=texts.TIPS["noise"])
                        speed = gr.Slider(0, 0.5, value=0, step=0.01, label="Slow motion (seconds per step)", info=texts.TIPS["speed"])
                        with gr.Row():
                            play = gr.Button("Start / reset", variant="primary", elem_id="train-toy-start")
                            pause = gr.Button("Pause", elem_id="train-pause")
                            resume = gr.Button("Play", elem_id="train-play")
                        with gr.Row():
                            d_step = gr.Button("One inspector step", size="sm", elem_id="train-d-step")
                            g_step = gr.Button("One forger step", size="sm", elem_id="train-g-step")
                            rollback = gr.Button("Roll back", size="sm", elem_id="train-rollback")
            with gr.Tab("Images", id="train-images"):
                with gr.Row():
                    with gr.Column(scale=3):
                        grid = gr.HTML(elem_id="train-grid")
                        curves = gr.HTML(value={}, html_template='<div class="le-live" style="width:100%;height:300px"></div>',
                                         js_on_load=LIVE_JS, elem_id="train-curves")
                        gr.Markdown(texts.TRAIN_IMAGES)
                    with gr.Column(scale=2):
                        img_readout = gr.HTML(elem_id="train-img-readout")
                        img_dataset = gr.Radio(["digits", "fashion-mnist"], value="digits", label="Data")
                        img_model = gr.Radio(["dcgan", "vae"], value="dcgan", label="Model")
                        img_loss = gr.Radio(list(LOSSES), value="non-saturating", label="GAN loss", info=texts.TIPS["loss"])
                        img_lr = gr.Number(2e-4, label="Learning rate", minimum=1e-6, maximum=1)
                        img_k = gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step", info=texts.TIPS["k"])
                        img_batch = gr.Dropdown([16, 32, 64, 128, 256], value=64, label="Batch size", info=texts.TIPS["batch"])
                        smoothing = gr.Checkbox(False, label="One-sided label smoothing (real = 0.9)")
                        with gr.Row():
                            img_start = gr.Button("Start / reset", variant="primary", elem_id="train-img-start")
                            img_pause = gr.Button("Pause", elem_id="train-img-pause")
                            img_play = gr.Button("Resume", elem_id="train-img-play")
                            img_stop = gr.Button("Stop", elem_id="train-img-stop")
                            img_rollback = gr.Button("Roll back", elem_id="train-img-rollback")
                        title = gr.Textbox(label="Save as", placeholder="My Fashion GAN", info=texts.TIPS["save_title"], elem_id="train-save-title")
                        save = gr.Button("Save to the model picker", elem_id="train-save")
                        save_msg = gr.HTML(elem_id="train-save-msg")
        timer = gr.Timer(0.2, active=False)
        outs = [toy_plot, curves, grid, toy_readout, img_readout, timer]
        speed.change(lambda v: self.worker.set_speed(v), speed, None, api_visibility="private")
        play.click(self.start_toy, [dataset, loss, lr_g, lr_d, k, batch, noise], outs, api_visibility="private")
        for btn, action in ((pause, "pause"), (resume, "play"), (d_step, "d"), (g_step, "g"), (rollback, "rollback"),
                            (img_pause, "pause"), (img_play, "play"), (img_stop, "stop"), (img_rollback, "rollback")):
            btn.click(_bind(self.control, action), None, outs, api_visibility="private", show_progress="hidden")
        img_start.click(self.start_images, [img_dataset, img_model, img_loss, img_lr, img_k, img_batch, smoothing], outs,
                        api_visibility="private")
        save.click(self.save, title, [model_dropdown, save_msg], api_visibility="private")
        timer.tick(self.refresh, None, outs, show_progress="hidden", api_visibility="private")
        self.refresh_event = dict(fn=self.refresh, inputs=None, outputs=outs, show_progress="hidden", api_visibility="private")


def _bind(fn, action):
    def handler(request: gr.Request):
        return fn(action, request)
    return handler


def _owner(request) -> str:
    return getattr(request, "session_hash", None) or "api"


def _fast_note(status: str) -> str:
    """Only on GPUs: whether each step runs as one captured CUDA graph (and why not, if not)."""
    if status == "CUDA graph":
        return " (each step replayed as one CUDA graph)"
    return f" (fast path: {status})" if status.startswith(("CUDA", "eager (CUDA graph capture")) else ""


def readout(snap: dict, last: dict, extra: dict, me: str | None) -> str:
    state = snap["state"]
    if state == "idle":
        return widgets.message("Nothing is training yet. Choose settings and press Start.", "info")
    rows = [("State", state + ("" if snap["owner"] in (None, me) else " (started by another visitor)")),
            ("Run", snap["description"]), ("Step", f"{snap['step']:,}"),
            ("Speed", f"{snap['steps_per_s']:.0f} steps/s" + _fast_note(snap.get("fast_path", "off"))),
            ("Training time", f"{snap['train_seconds']:.0f} s")]
    d_real, d_fake = extra.get("d_real", last.get("d_real")), extra.get("d_fake", last.get("d_fake"))
    if d_real is not None:
        rows += [("D(x) on real data", f"{d_real:.3f}"), ("D(G(z)) on fakes", f"{d_fake:.3f}")]
    for key, name in (("critic_real", "critic on real"), ("critic_fake", "critic on fakes"), ("loss_d", "inspector loss"),
                      ("loss_g", "forger loss"), ("loss", "VAE loss"), ("fd_fast", "FD (500 pictures)"), ("coverage", "class coverage")):
        if key in last:
            rows.append((name, f"{last[key]:.3f}"))
    cov = extra.get("coverage_modes")
    if cov:
        covered, total = cov
        collapsed = covered <= total // 2 and snap["step"] >= 1500      # early on nothing is covered yet
        rows.append(("Modes covered", f"{covered} of {total}" + (" — mode collapse!" if collapsed else "")))
    body = "".join(f"<tr><td>{html.escape(k)}</td><td><b>{html.escape(str(v))}</b></td></tr>" for k, v in rows)
    msg = f'<p style="color:#b00020">{html.escape(snap["message"])}</p>' if snap["message"] else ""
    hint = ""
    if d_real is not None and d_fake is not None and abs(d_real - 0.5) < 0.08 and abs(d_fake - 0.5) < 0.08:
        hint = "<p>Both are close to ½: the inspector can no longer tell real from fake.</p>"
    return f'<div class="le-readout">{msg}<table>{body}</table>{hint}</div>'
