"""Train tab: the adversarial game live. 2-D mode (GAN Lab style, the teaching view) and image mode
(DCGAN/VAE on digits or Fashion-MNIST). Every handler calls the app's one TrainingSession with the
visitor's owner token, kept in the browser (BrowserState) so a reload keeps control of the run."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from explorer.core.data import TOY_NAMES
from explorer.core.imaging import image_grid
from explorer.core.validation import UserError
from explorer.live.probe import ClassGrid
from explorer.live.session import TrainingSession
from explorer.live.settings import IMAGE_DATASETS, ImageSettings, ToySettings
from explorer.live.toy_view import real_data_preview
from explorer.training import LOSSES
from explorer.ui import texts, widgets
from explorer.ui.plotly_html import LIVE_JS, PLOTLY_HEAD
from explorer.ui.train_figures import (
    class_grid_picture,
    curves_figure,
    preview_figure,
    readout,
    toy_figure,
)

PACES = {"Demo pace": 0.03, "Fast": 0.004, "Full speed": 0.0}


class TrainTab:
    def __init__(self, session: TrainingSession, on_saved=None):
        self.session = session
        self.on_saved = on_saved or (lambda path: None)     # the app refreshes its model list

    # ---------------------------------------------------------------- handlers
    def start_toy(self, dataset, loss, lr_g, lr_d, k, batch, noise, pace, token):
        try:
            token = self.session.start_toy(ToySettings(dataset, loss, lr_g, lr_d, k, batch, noise), token)
            self.session.set_speed(token, PACES.get(pace, 0.0))
        except UserError as exc:
            widgets.warn(str(exc))
        return {self.token: token, **self.refresh(token)}

    def start_images(self, dataset, model, loss, lr, k, batch, smoothing, conditional, token):
        try:
            settings = ImageSettings(dataset, model, loss, lr, k, batch, 0.9 if smoothing else 1.0, conditional=conditional)
            token = self.session.start_images(settings, token)
        except UserError as exc:
            widgets.warn(str(exc))
        return {self.token: token, **self.refresh(token)}

    def control(self, action, token):
        try:
            note = self.session.control(token, action)
            if note:
                widgets.info(note)
        except UserError as exc:
            widgets.warn(str(exc))
        return self.refresh(token)

    def set_pace(self, pace, token):
        if self.session.owns(token):
            self.session.set_speed(token, PACES.get(pace, 0.0))

    def save(self, title, token):
        try:
            path, replaced = self.session.save(token, title)
        except UserError as exc:
            widgets.warn(f"Not saved: {exc}")
            return {self.save_msg: widgets.message(f"Not saved: {exc}")}
        self.on_saved(path)
        what = "Replaced the earlier save with this title" if replaced else "Saved"
        listed = self.choices()
        widgets.info(f"{what}: it is in the model picker now.")
        return {self.save_msg: widgets.message(f"{what}. Pick it in the model list at the top to explore it.", "info"),
                self.model_dropdown: gr.update(choices=listed)}

    def preview(self, dataset, token):
        """Before a 2-D run (or while an image run owns the trainer): the real data alone."""
        status = self.session.status(token)
        if status["kind"] == "toy_gan" and status["state"] != "stopped":
            return gr.update()
        return preview_figure(real_data_preview(dataset), dataset)

    def refresh(self, token=None) -> dict:
        status = self.session.status(token)
        view, kind = self.session.view, status["kind"]
        out = {self.toy_readout: readout(status, view if kind == "toy_gan" else None),
               self.img_readout: readout(status), self.timer: gr.Timer(active=status["state"] == "running")}
        if kind == "toy_gan" and isinstance(view, dict):
            out[self.toy_plot] = toy_figure(view)
        elif kind in ("dcgan", "vae") and isinstance(view, (np.ndarray, ClassGrid)):
            out[self.grid] = grid_picture(view)
            wgan = status["settings"].get("loss") == "wgan-gp"
            out[self.curves] = curves_figure(status["history"], wgan, kind == "vae")
        return out

    # ---------------------------------------------------------------- layout
    def build(self, token: gr.BrowserState, model_dropdown: gr.Dropdown, choices):
        self.token, self.model_dropdown, self.choices = token, model_dropdown, choices
        with gr.Accordion("The forger and the inspector (what is a GAN?)", open=False, elem_id="train-intro") as self.intro:
            gr.Markdown(texts.TRAIN)
        with gr.Tabs():
            with gr.Tab("2-D points (watch the game)", id="train-2d"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, elem_classes="le-sticky"):
                        self.toy_plot = gr.HTML(value=preview_figure(real_data_preview("ring"), "ring"),
                                                html_template='<div class="le-live" style="width:100%;height:470px"></div>',
                                                js_on_load=LIVE_JS, head=PLOTLY_HEAD, elem_id="train-toy-plot")
                        with gr.Accordion("How to read this picture", open=False):
                            gr.Markdown(texts.TRAIN_2D)
                            gr.Markdown(texts.TRAIN_COLLAPSE)
                    with gr.Column(scale=2):
                        with gr.Row():
                            play = gr.Button("Start / reset", variant="primary", elem_id="train-toy-start", scale=2)
                            pause = gr.Button("Pause", elem_id="train-pause")
                            resume = gr.Button("Play", elem_id="train-play")
                            stop = gr.Button("Stop", elem_id="train-toy-stop")
                        self.toy_readout = gr.HTML(elem_id="train-toy-readout")
                        pace = gr.Radio(list(PACES), value="Demo pace", label="Pace", info=texts.TIPS["pace"],
                                        elem_id="train-pace")
                        with gr.Row():
                            d_step = gr.Button("One inspector step", size="sm", elem_id="train-d-step")
                            g_step = gr.Button("One forger step", size="sm", elem_id="train-g-step")
                            rollback = gr.Button("Roll back", size="sm", elem_id="train-rollback")
                        dataset = gr.Dropdown(list(TOY_NAMES), value="ring", label="Real data", info=texts.TIPS["toy_dataset"],
                                              elem_id="train-toy-data")
                        loss = gr.Radio(list(LOSSES), value="non-saturating", label="Loss", info=texts.TIPS["loss"])
                        with gr.Accordion("More settings", open=False):
                            with gr.Row():
                                lr_g = gr.Number(1e-3, label="Forger learning rate", info=texts.TIPS["lr_g"], minimum=1e-6, maximum=1)
                                lr_d = gr.Number(1e-3, label="Inspector learning rate", info=texts.TIPS["lr_d"], minimum=1e-6, maximum=1)
                            k = gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step", info=texts.TIPS["k"])
                            batch = gr.Dropdown([32, 64, 128, 256, 512], value=128, label="Batch size", info=texts.TIPS["batch"])
                            noise = gr.Slider(1, 8, value=2, step=1, label="Noise size", info=texts.TIPS["noise"])
            with gr.Tab("Images", id="train-images"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, elem_classes="le-sticky"):
                        self.grid = gr.HTML(elem_id="train-grid")
                        self.curves = gr.HTML(value={}, html_template='<div class="le-live" style="width:100%;height:260px"></div>',
                                              js_on_load=LIVE_JS, head=PLOTLY_HEAD, elem_id="train-curves")
                        gr.Markdown(texts.TRAIN_IMAGES)
                    with gr.Column(scale=2):
                        with gr.Row():
                            img_start = gr.Button("Start / reset", variant="primary", elem_id="train-img-start", scale=2)
                            img_pause = gr.Button("Pause", elem_id="train-img-pause")
                            img_play = gr.Button("Play", elem_id="train-img-play")
                            img_stop = gr.Button("Stop", elem_id="train-img-stop")
                        self.img_readout = gr.HTML(elem_id="train-img-readout")
                        img_dataset = gr.Radio(list(IMAGE_DATASETS), value="digits", label="Data")
                        img_model = gr.Radio(["dcgan", "vae"], value="dcgan", label="Model")
                        img_conditional = gr.Checkbox(False, label="Class-conditional (one row per class)",
                                                      info=texts.TIPS["conditional"], elem_id="train-img-conditional")
                        with gr.Accordion("More settings", open=False):
                            img_loss = gr.Radio(list(LOSSES), value="non-saturating", label="GAN loss", info=texts.TIPS["loss"])
                            img_lr = gr.Number(2e-4, label="Learning rate", minimum=1e-6, maximum=1)
                            img_k = gr.Slider(1, 10, value=1, step=1, label="k: inspector steps per forger step", info=texts.TIPS["k"])
                            img_batch = gr.Dropdown([16, 32, 64, 128, 256], value=64, label="Batch size", info=texts.TIPS["batch"])
                            smoothing = gr.Checkbox(False, label="One-sided label smoothing (real = 0.9)")
                            img_rollback = gr.Button("Roll back", size="sm", elem_id="train-img-rollback")
                        with gr.Row():
                            title = gr.Textbox(label="Save as", placeholder="My Fashion GAN", info=texts.TIPS["save_title"],
                                               elem_id="train-save-title", scale=2)
                            save = gr.Button("Save to the model picker", elem_id="train-save")
                        self.save_msg = gr.HTML(elem_id="train-save-msg")
        self.timer = gr.Timer(0.2, active=False)
        heartbeat = gr.Timer(20.0)                         # tells the session the owner's page is still open
        outs = [self.toy_plot, self.curves, self.grid, self.toy_readout, self.img_readout, self.timer]
        private = dict(api_visibility="private", show_progress="hidden")
        play.click(self.start_toy, [dataset, loss, lr_g, lr_d, k, batch, noise, pace, token], outs + [token], **private)
        img_start.click(self.start_images, [img_dataset, img_model, img_loss, img_lr, img_k, img_batch, smoothing,
                                            img_conditional, token], outs + [token], **private)
        for btn, action in ((pause, "pause"), (resume, "play"), (stop, "stop"), (d_step, "d"), (g_step, "g"),
                            (rollback, "rollback"), (img_pause, "pause"), (img_play, "play"), (img_stop, "stop"),
                            (img_rollback, "rollback")):
            btn.click(_bind(self.control, action), token, outs, **private)
        pace.change(self.set_pace, [pace, token], None, **private)
        dataset.change(self.preview, [dataset, token], self.toy_plot, **private)
        save.click(self.save, [title, token], [self.save_msg, model_dropdown], **private)
        self.timer.tick(self.refresh, token, outs, **private)
        heartbeat.tick(self.session.touch, token, None, **private)
        self.refresh_event = dict(fn=self.refresh, inputs=token, outputs=outs, **private)
        self.pause_buttons = (pause, resume)


def grid_picture(view) -> str:
    """The fixed-noise grid: 8 x 8 tiles, or for a class-conditional run one named row per class."""
    if isinstance(view, ClassGrid):
        rows, cols = view.images.shape[:2]
        tiles = _tiles(view.images.reshape(rows * cols, *view.images.shape[2:]), cols)
        return class_grid_picture(tiles, view.rows, 300,
                                  f"one row per class, the same {cols} noise vectors in every row, all through training")
    return widgets.picture(_tiles(view, 8), 360, "the same 64 noise vectors, all through training")


def _tiles(images: np.ndarray, columns: int) -> np.ndarray:
    """uint8 (N, H, W, C) pictures -> one uint8 sheet, `columns` to a row."""
    return image_grid(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), columns)


def _bind(fn, action):
    def handler(token):
        return fn(action, token)
    return handler
