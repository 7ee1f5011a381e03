"""Explore's "Use my own picture" panel: draw, upload or pick a test picture, put it in the model's latent
space (VAE: its encoding; GAN: the encoder's guess, then a refinement shown live), and make the result
the current point, so the sliders, named directions, interpolation and the map all work on it."""
from __future__ import annotations

import html
import queue
import threading
from pathlib import Path

import gradio as gr
import numpy as np

from explorer.core.picture import read_picture_file
from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace
from explorer.ui import gradio_files, widgets
from explorer.ui.api import ENCODE_CONCURRENCY, ENCODE_GROUP
from explorer.ui.inputs import Number
from explorer.ui.wiring import event

VERDICT_WORDS = {"very close": "very close to your picture", "close": "close to your picture",
                 "rough": "only a rough likeness"}


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 3 else image[..., None]


def result_html(enc, live_picture=None, live_step: int | None = None) -> str:
    """Side by side: your picture as the model sees it, the encoder's guess (GAN), the result; then in words."""
    cells = [widgets.picture(_gray(enc.input), 112, "your picture, prepared")]
    if enc.guess is not None:
        cells.append(widgets.picture(enc.guess, 112, "the encoder's first guess" if enc.guessed_by == "encoder"
                                     else "the best random start"))
    cells.append(widgets.picture(enc.reconstruction, 112, "refined" if enc.guess_latent is not None else "the model's version"))
    s = enc.scores
    same = "keeps" if s["same_label"] else "changes"
    words = (f"<p>Result: <b>{html.escape(VERDICT_WORDS.get(s['verdict'], s['verdict']))}</b>. The classifier sees "
             f"<b>{html.escape(s['label'])}</b> in your picture and <b>{html.escape(s['label_reconstruction'])}</b> in the "
             f"model's: it {same} the class.</p>")
    if enc.samples is not None and len(enc.samples):
        words += "<p>Other pictures the encoder thinks yours could be (samples from its spread):</p>" + \
                 widgets.strip(enc.samples, [""] * len(enc.samples), 56)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in enc.notes)
    return (f'<div style="display:flex;gap:8px;flex-wrap:wrap">{"".join(cells)}</div>{words}'
            + (f'<ul class="le-where">{notes}</ul>' if notes else ""))


def progress_html(step: int, picture: np.ndarray) -> str:
    return (f'<div style="display:flex;gap:8px;align-items:center">{widgets.picture(_gray(picture), 112, f"step {step}")}'
            f"<p>Refining: moving the latent numbers so the picture looks more like yours… step {step}</p></div>")


class OwnPicture:
    def __init__(self, ws: Workspace, explore):
        self.ws, self.explore = ws, explore

    def _picture(self, source, drawing, upload, index, model):
        if source == "Draw":
            if drawing is None:
                raise UserError("The canvas is empty: draw something first (a sneaker, a pair of trousers…).")
            return drawing
        if source == "Upload":
            if not upload:
                raise UserError("Choose a picture file first (PNG, JPEG, WebP or GIF).")
            if not Path(upload).is_file():
                raise UserError("That picture is no longer on the server (a picture is deleted once it is in the "
                                "latent space): choose the file again.")
            return read_picture_file(Path(upload))
        return self.ws.test_picture(model, index)

    def encode(self, model, own_source, own_drawing, own_upload, own_index, layers=()):
        """A generator: live refinement pictures while a GAN inverts, then the result as the current point."""
        picture = self._picture(own_source, own_drawing, own_upload, own_index, model)
        updates: queue.Queue = queue.Queue()
        box: dict = {}

        def work():
            try:
                box["enc"] = self.ws.encode_picture(model, picture, progress=lambda step, loss, pic: updates.put((step, pic)))
            except Exception as exc:  # noqa: BLE001 - handed to the generator, which raises it at the UI's edge
                box["error"] = exc
            updates.put(None)

        threading.Thread(target=work, daemon=True).start()
        while (item := updates.get()) is not None:
            yield {"own_result": progress_html(*item)}
        if "error" in box:
            raise box["error"]
        enc = box["enc"]
        cleared = {}
        if own_source == "Upload":         # used: Gradio's copy is not kept (nor served to anyone) any longer
            gradio_files.forget(Path(own_upload))
            cleared = {"own_upload": None}
        yield {"own_result": result_html(enc), **cleared, **self.explore.use_latent(model, enc.latent.tolist(), cls=enc.cls,
                                                                                       source="your picture", layers=layers)}

    @staticmethod
    def show_source(own_source):
        return {"own_drawing": gr.update(visible=own_source == "Draw"),
                "own_upload": gr.update(visible=own_source == "Upload"),
                "own_index": gr.update(visible=own_source == "Test picture")}

    def build(self):
        with gr.Accordion("Use my own picture", open=False, elem_id="own-picture"):
            parts = dict(
                own_source=gr.Radio(["Draw", "Upload", "Test picture"], value="Draw", label="Where from", elem_id="own-source"),
                own_drawing=gr.Sketchpad(label="Draw (white or black background, any colour)", type="numpy",
                                         canvas_size=(280, 280), elem_id="own-draw", height=300),
                own_upload=gradio_files.FileBox(label="A picture file", file_types=["image"], type="filepath",
                                                elem_id="own-upload", height=70, visible=False),
                own_index=Number(precision=None, value=0, label="Test picture number", elem_id="own-index",
                                 visible=False),
                own_go=gr.Button("Put it in the latent space", variant="primary", elem_id="own-go"),
                own_result=gr.HTML(elem_id="own-result"))
        self.explore.parts.add(**parts)

    def wire(self):
        """After the Explore tab is wired: the result becomes the current point, then everything redraws."""
        from explorer.ui.explore_layout import POINT
        p = self.explore.parts
        # only the chosen source's input is shown (the canvas, the file box and the number took the room at once)
        p["own_source"].change(**event(p, self.show_source, ["own_source"], ["own_drawing", "own_upload", "own_index"]))
        self.explore.then_all(p["own_go"].click(**event(
            p, self.encode, ["model", "own_source", "own_drawing", "own_upload", "own_index", "layers"],
            ["own_result", "own_upload", *POINT],
            errors_to="own_result", toast=True, concurrency_limit=ENCODE_CONCURRENCY, concurrency_id=ENCODE_GROUP)))
