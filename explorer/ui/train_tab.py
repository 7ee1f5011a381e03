"""Train tab: the adversarial game live. 2-D mode (GAN Lab style, the teaching view) and image mode
(DCGAN/VAE on digits or Fashion-MNIST). Every handler calls the app's one TrainingSession with the
visitor's owner token, kept in the browser (BrowserState) so a reload keeps control of the run."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from explorer.core.data import TOY_NAMES
from explorer.core.families import FAMILIES
from explorer.core.imaging import image_grid
from explorer.core.validation import UserError
from explorer.live.forecast import MACHINE_SPEEDS, QUICK_RUNS, offered_note, quick_run, what_this_machine_shows
from explorer.live.probe import ClassGrid
from explorer.live.session import HEARTBEAT_S, TrainingSession
from explorer.live.settings import IMAGE_MODELS, ImageSettings, ToySettings, default_lr, image_datasets, model_name
from explorer.live.toy_view import real_data_preview
from explorer.training import LOSSES
from explorer.ui import texts, widgets
from explorer.ui.inputs import Number
from explorer.ui.plotly_html import LIVE_JS, PLOTLY_HEAD, figure_value, live_template
from explorer.ui.train_figures import (
    LAYERS,
    class_grid_picture,
    curves_figure,
    preview_figure,
    readout,
    toy_figure,
)
from explorer.ui.wiring import Parts, event

PACES = {"Demo pace": 0.03, "Fast": 0.004, "Full speed": 0.0}
OWNER_JS = "(token) => { window.leTrainOwner = token || ''; return [token]; }"


class TrainTab:
    def __init__(self, session: TrainingSession, choices=lambda: [], prepare=lambda name: None):
        self.session = session
        self.choices = choices         # the model picker's choices, refreshed after a save
        self.prepare = prepare         # a saved model's directions found in the background (name -> None)

    # ---------------------------------------------------------------- handlers
    def start_toy(self, toy_dataset, toy_loss, lr_g, lr_d, toy_k, toy_batch, noise, pace, token):
        token = self.session.start_toy(ToySettings(toy_dataset, toy_loss, lr_g, lr_d, toy_k, toy_batch, noise), token)
        self.session.set_speed(token, PACES.get(pace, 0.0))
        return {"token": token}

    def start_images(self, img_dataset, img_model, img_loss, img_lr, img_k, img_batch, smoothing, img_conditional, token):
        settings = ImageSettings(img_dataset, img_model, img_loss, img_lr, img_k, img_batch, 0.9 if smoothing else 1.0,
                                 conditional=img_conditional)
        return {"token": self.session.start_images(settings, token)}

    def forecast(self, img_dataset, img_model, img_loss, img_k, img_batch, img_conditional):
        """Before Start: what this machine can show with these settings, and how long it takes (live/forecast.py)."""
        settings = ImageSettings(img_dataset, img_model, img_loss, 2e-4, img_k, img_batch, conditional=img_conditional)
        found = what_this_machine_shows(MACHINE_SPEEDS, settings, self.session.device, self.session.status())
        out = {"img_forecast": forecast_html(found["lines"])}
        if found["quick"]:
            out["img_quick"] = gr.update(value=quick_label(found["quick"]["model"], found["quick"]["dataset"]))
        return out

    @staticmethod
    def model_lr(img_model):
        """A model chosen: the learning rate its recipe wants (a style-based GAN's is ten times the DCGAN's)."""
        return {"img_lr": default_lr(img_model) if img_model in IMAGE_MODELS else gr.update()}

    def quick_settings(self):
        """The quick run's settings in the image-mode widgets (then Start): its speed is known by now."""
        busy = self.session.status()["state"] == "running"
        q = quick_run(MACHINE_SPEEDS, self.session.device, may_time=not busy).settings
        return {"img_dataset": q.dataset, "img_model": q.model, "img_conditional": q.conditional, "img_loss": q.loss,
                "img_lr": q.lr, "img_k": q.k, "img_batch": q.batch_size, "smoothing": q.label_smoothing < 1.0}

    def control(self, action, token):
        note = self.session.control(token, action)
        if note:
            widgets.info(note)
        return {}

    def set_pace(self, pace, token):
        if self.session.owns(token):
            self.session.set_speed(token, PACES.get(pace, 0.0))
        return {}

    def save(self, title, token):
        try:
            path, replaced = self.session.save(token, title)
        except UserError as exc:
            raise UserError(f"Not saved: {exc}") from None
        self.prepare(path.stem)        # ready, or nearly, when it is picked
        what = "Replaced the earlier save with this title" if replaced else "Saved"
        widgets.info(f"{what}: it is in the model picker now.")
        return {"save_msg": widgets.message(f"{what}. Pick it in the model list at the top to explore it.", "info"),
                "model": gr.update(choices=self.choices())}

    def preview(self, toy_dataset, token):
        """Before a 2-D run (or while an image run owns the trainer): the real data alone."""
        status = self.session.status(token)
        if status["kind"] == "toy_gan" and status["state"] != "stopped":
            return {}
        return {"toy_plot": figure_value(preview_figure(real_data_preview(toy_dataset), toy_dataset))}

    def refresh(self, token=None, toy_layers=None) -> dict:
        """What the run shows now; the 2-D game with the layers switched on (`toy_layers`, keys of LAYERS)."""
        status = self.session.status(token)
        view, kind = self.session.view, status["kind"]
        # each sub-tab reads out its own kind of run; the other kind's says where it is (the trainer runs one at a time)
        toy, images = kind in (None, "toy_gan"), kind is None or kind in IMAGE_MODELS
        out = {"toy_readout": readout(status, view if kind == "toy_gan" else None) if toy else other_run(status, "Images"),
               "img_readout": readout(status) if images else other_run(status, "2-D points"),
               "timer": gr.Timer(active=status["state"] == "running")}
        if kind == "toy_gan" and isinstance(view, dict):
            out["toy_plot"] = figure_value(toy_figure(view, toy_layers))
        elif kind in IMAGE_MODELS and isinstance(view, (np.ndarray, ClassGrid)):
            out["grid"] = grid_picture(view)
            wgan = status["settings"].get("loss") == "wgan-gp"
            out["curves"] = figure_value(curves_figure(status["history"], wgan, not FAMILIES[kind].adversarial))
        return out

    def touch(self, token):
        self.session.touch(token)
        return {}

    # ---------------------------------------------------------------- layout
    def build(self, token: gr.BrowserState, model_dropdown: gr.Dropdown):
        p = self.parts = Parts(token=token, model=model_dropdown)
        with gr.Accordion("The forger and the inspector (what is a GAN?)", open=False, elem_id="train-intro") as intro:
            gr.Markdown(texts.TRAIN)
        p.add(intro=intro)
        with gr.Tabs():
            with gr.Tab("2-D points (watch the game)", id="train-2d"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, elem_classes="le-sticky"):
                        p.add(toy_plot=gr.HTML(value=figure_value(preview_figure(real_data_preview("ring"), "ring")),
                                               html_template=live_template(470),
                                               js_on_load=LIVE_JS, head=PLOTLY_HEAD, elem_id="train-toy-plot"),
                              toy_layers=gr.CheckboxGroup([(label, key) for key, label in LAYERS.items()], value=list(LAYERS),
                                                          label="Show", elem_id="train-layers"))
                        with gr.Accordion("How to read this picture", open=False):
                            gr.Markdown(texts.TRAIN_2D)
                            gr.Markdown(texts.TRAIN_COLLAPSE)
                    with gr.Column(scale=2):
                        with gr.Row():
                            p.add(toy_start=gr.Button("Start / reset", variant="primary", elem_id="train-toy-start", scale=2),
                                  pause=gr.Button("Pause", elem_id="train-pause"),
                                  play=gr.Button("Play", elem_id="train-play"),
                                  stop=gr.Button("Stop", elem_id="train-toy-stop"))
                        p.add(toy_readout=gr.HTML(elem_id="train-toy-readout"),
                              pace=gr.Radio(list(PACES), value="Demo pace", label="Pace", info=texts.TIPS["pace"],
                                            elem_id="train-pace"))
                        with gr.Row():
                            p.add(d_step=gr.Button("One inspector step", size="sm", elem_id="train-d-step"),
                                  g_step=gr.Button("One forger step", size="sm", elem_id="train-g-step"),
                                  rollback=gr.Button("Roll back", size="sm", elem_id="train-rollback"))
                        p.add(toy_dataset=gr.Dropdown(list(TOY_NAMES), value="ring", label="Real data",
                                                      info=texts.TIPS["toy_dataset"], elem_id="train-toy-data"),
                              toy_loss=gr.Radio(list(LOSSES), value="non-saturating", label="Loss", info=texts.TIPS["loss"]))
                        with gr.Accordion("More settings", open=False):
                            with gr.Row():
                                p.add(lr_g=Number(1e-3, precision=None, label="Forger learning rate", info=texts.TIPS["lr_g"]),
                                      lr_d=Number(1e-3, precision=None, label="Inspector learning rate", info=texts.TIPS["lr_d"]))
                            p.add(toy_k=gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step",
                                                  info=texts.TIPS["k"]),
                                  toy_batch=gr.Dropdown([32, 64, 128, 256, 512], value=128, label="Batch size",
                                                        info=texts.TIPS["batch"]),
                                  noise=gr.Slider(1, 8, value=2, step=1, label="Noise size", info=texts.TIPS["noise"]))
            with gr.Tab("Images", id="train-images") as images_tab:
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, elem_classes="le-sticky"):
                        p.add(grid=gr.HTML(elem_id="train-grid"),
                              curves=gr.HTML(value=figure_value({}), html_template=live_template(260),
                                             js_on_load=LIVE_JS, head=PLOTLY_HEAD, elem_id="train-curves"))
                        gr.Markdown(texts.TRAIN_IMAGES)
                    with gr.Column(scale=2):
                        with gr.Row():
                            p.add(img_start=gr.Button("Start / reset", variant="primary", elem_id="train-img-start", scale=2),
                                  img_pause=gr.Button("Pause", elem_id="train-img-pause"),
                                  img_play=gr.Button("Play", elem_id="train-img-play"),
                                  img_stop=gr.Button("Stop", elem_id="train-img-stop"))
                        p.add(images_tab=images_tab, img_readout=gr.HTML(elem_id="train-img-readout"),
                              img_forecast=gr.HTML(elem_id="train-img-forecast"),
                              img_quick=gr.Button(quick_label(QUICK_RUNS[0].model, QUICK_RUNS[0].dataset), size="sm",
                                                  elem_id="train-img-quick"),
                              img_dataset=gr.Radio(list(image_datasets()), value="digits", label="Data",
                                                   info=offered_note() or None, elem_id="train-img-data"),
                              img_model=gr.Radio([(model_name(k), k) for k in IMAGE_MODELS], value="dcgan", label="Model"),
                              img_conditional=gr.Checkbox(False, label="Class-conditional (one row per class)",
                                                          info=texts.TIPS["conditional"], elem_id="train-img-conditional"))
                        with gr.Accordion("More settings", open=False):
                            p.add(img_loss=gr.Radio(list(LOSSES), value="non-saturating", label="GAN loss",
                                                    info=texts.TIPS["loss"]),
                                  img_lr=Number(default_lr("dcgan"), precision=None, label="Learning rate",
                                                info="Each model's own is set when it is chosen."),
                                  img_k=gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step",
                                                  info=texts.TIPS["k"]),
                                  img_batch=gr.Dropdown([16, 32, 64, 128, 256], value=64, label="Batch size",
                                                        info=texts.TIPS["batch"]),
                                  smoothing=gr.Checkbox(False, label="One-sided label smoothing (real = 0.9)"),
                                  img_rollback=gr.Button("Roll back", size="sm", elem_id="train-img-rollback"))
                        with gr.Row():
                            p.add(title=gr.Textbox(label="Save as", placeholder="My Fashion GAN",
                                                   info=texts.TIPS["save_title"], elem_id="train-save-title", scale=2),
                                  save=gr.Button("Save to the model picker", elem_id="train-save"))
                        p.add(save_msg=gr.HTML(elem_id="train-save-msg"))
        # the heartbeat: the owner's page is open (live/session.py: its owner has left when it stops)
        p.add(timer=gr.Timer(0.2, active=False), heartbeat=gr.Timer(HEARTBEAT_S))
        self._wire()

    def _wire(self):
        p = self.parts
        outs = ["toy_plot", "curves", "grid", "toy_readout", "img_readout", "timer"]
        self.refresh_event = event(p, self.refresh, ["token", "toy_layers"], outs)
        p["toy_layers"].change(**self.refresh_event)          # a switch redraws at once, paused or not
        toy = ["toy_dataset", "toy_loss", "lr_g", "lr_d", "toy_k", "toy_batch", "noise", "pace", "token"]
        p["toy_start"].click(**event(p, self.start_toy, toy, ["token"])).then(**self.refresh_event)
        images = ["img_dataset", "img_model", "img_loss", "img_lr", "img_k", "img_batch", "smoothing", "img_conditional",
                  "token"]
        p["img_start"].click(**event(p, self.start_images, images, ["token"])).then(**self.refresh_event)
        chosen = ["img_dataset", "img_model", "img_loss", "img_k", "img_batch", "img_conditional"]
        forecast = event(p, self.forecast, chosen, ["img_forecast", "img_quick"], errors_to="img_forecast")
        for name in chosen:
            p[name].change(**forecast)
        p["img_model"].change(**event(p, self.model_lr, ["img_model"], ["img_lr"]))
        p["images_tab"].select(**forecast)
        p["img_quick"].click(**event(p, self.quick_settings, [], [*chosen, "img_lr", "smoothing"])).then(
            **event(p, self.start_images, images, ["token"])).then(**self.refresh_event)
        for button, action in (("pause", "pause"), ("play", "play"), ("stop", "stop"), ("d_step", "d"), ("g_step", "g"),
                               ("rollback", "rollback"), ("img_pause", "pause"), ("img_play", "play"),
                               ("img_stop", "stop"), ("img_rollback", "rollback")):
            p[button].click(**event(p, _bind(self.control, action), ["token"])).then(**self.refresh_event)
        p["pace"].change(**event(p, self.set_pace, ["pace", "token"]))
        p["toy_dataset"].change(**event(p, self.preview, ["toy_dataset", "token"], ["toy_plot"]))
        p["save"].click(**event(p, self.save, ["title", "token"], ["save_msg", "model"], errors_to="save_msg", toast=True))
        p["timer"].tick(**self.refresh_event)
        # the page keeps the token its heartbeat sends, to say it is leaving as it closes (static/train_owner.js);
        # app.py sends it once more as the page opens, so a reloaded owner's page is back within its grace
        self.heartbeat_event = event(p, self.touch, ["token"], js=OWNER_JS)
        p["heartbeat"].tick(**self.heartbeat_event)


def other_run(status: dict, tab: str) -> str:
    """A sub-tab's readout while the trainer holds the other kind of run: what that run is and where to see it."""
    whose = "yours" if status.get("mine") else "another visitor's"
    return widgets.message(texts.TRAIN_OTHER_KIND.format(description=status.get("description", ""), whose=whose,
                                                         state=status.get("state", ""), tab=tab), "info")


def grid_picture(view) -> str:
    """The fixed-noise grid: 8 x 8 tiles, or for a class-conditional run one named row per class."""
    if isinstance(view, ClassGrid):
        rows, cols = view.images.shape[:2]
        tiles = _tiles(view.images.reshape(rows * cols, *view.images.shape[2:]), cols)
        return class_grid_picture(tiles, view.rows, 300,
                                  f"one row per class, the same {cols} noise vectors in every row, all through training",
                                  side=view.images.shape[2])
    return widgets.picture(_tiles(view, 8), 360, "the same 64 noise vectors, all through training", side=view.shape[1])


def quick_label(model: str, dataset: str) -> str:
    return f"Quick run: {model_name(model)} on {dataset}"


def forecast_html(lines: list[str]) -> str:
    """The forecast's sentences, escaped, under the heading a person looks for before Start."""
    return ('<div class="le-forecast" style="padding:4px 0;font-size:0.92em"><b>What this machine can show:</b> '
            + " ".join(widgets.escape(x) for x in lines) + "</div>")


def _tiles(images: np.ndarray, columns: int) -> np.ndarray:
    """uint8 (N, H, W, C) pictures -> one uint8 sheet, `columns` to a row."""
    return image_grid(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), columns)


def _bind(fn, action):
    def handler(token):
        return fn(action, token)
    handler.__name__ = handler.__qualname__ = f"{fn.__name__}_{action}"
    return handler
