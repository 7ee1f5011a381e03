"""Model picker: every explorable model, plus uploads (.safetensors checkpoints, .onnx decoders), with the model card.

An upload is all-or-nothing (Workspace.register_upload: copied, loaded, validated, then listed);
whatever happens, Gradio's cached copy of the file is deleted and the upload box is cleared. An
identical copy of a listed model selects that model. Messages name the user's own file name.
"""
from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from explorer.core.checkpoints import model_card
from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace
from explorer.ui import gradio_files, texts
from explorer.ui.inputs import Dropdown
from explorer.ui.presentation import present_button
from explorer.ui.widgets import info, md_text, shorten, warn
from explorer.ui.wiring import Parts, event

log = logging.getLogger(__name__)


def choices(ws: Workspace) -> list[tuple[str, str]]:
    """(label, name) pairs; the Dropdown shows labels as plain text, so they are shortened, not escaped."""
    out = []
    for name, meta in ws.listing().items():
        title = meta.get("title") if isinstance(meta.get("title"), str) and meta["title"].strip() else name
        out.append((shorten(title, 80), name))
    return out


def _safe(value, depth: int = 0):
    """Checkpoint metadata with every string made safe for Markdown (numbers kept as numbers)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, dict) and depth < 3:
        return {md_text(k, 60): _safe(v, depth + 1) for k, v in list(value.items())[:100]}
    if isinstance(value, list) and depth < 3:
        return [_safe(v, depth + 1) for v in value[:100]]
    return md_text(value, 300)


def safe_card(meta: dict, name: str) -> str:
    """The model card's Markdown with every string from the checkpoint escaped."""
    safe = _safe(meta)
    safe["kind"] = md_text(meta.get("kind"))
    for key in ("dataset", "config", "training", "evaluation"):
        if not isinstance(safe.get(key), dict):
            safe.pop(key, None)
    ds = safe.get("dataset", {})
    if not isinstance(ds.get("class_names"), list):
        ds.pop("class_names", None)
    else:
        ds["class_names"] = [str(c) for c in ds["class_names"]]
    if not isinstance(meta.get("train_seconds"), (int, float)) or isinstance(meta.get("train_seconds"), bool):
        safe.pop("train_seconds", None)
    if meta.get("command"):
        # shown in an indented code block, where Markdown and HTML are literal text; one line, so
        # nothing can end the block
        safe["command"] = " ".join("".join(ch if ch.isprintable() else " " for ch in str(meta["command"])).split())[:2000]
    title = safe.get("title") if isinstance(meta.get("title"), str) and meta["title"].strip() else md_text(name)
    return model_card(safe, title)


# the page's own switch: a class on the page, no server call (page.py's CSS reads it)
SHOW_PIXELS_JS = "(on) => { document.body.classList.toggle('le-show-pixels', !!on); }"


class Picker:
    def __init__(self, ws: Workspace, default: str):
        self.ws, self.default = ws, default

    def card(self, model):
        try:
            return safe_card(self.ws.model(model).meta, model)
        except UserError as exc:
            return f"**Cannot show this model:** {md_text(exc)}"

    def upload(self, request, upload):
        """Check an uploaded file and list it under a generated name (never the user's file name); the
        upload box is cleared and Gradio's own copy of the file deleted, whatever happens. The page's
        session is the visitor whose uploads are counted (explore/uploads.py)."""
        if not upload:
            return {}
        src = Path(upload)
        shown = shorten(src.name, 60)
        try:
            done = self.ws.register_upload(src, shown, visitor=getattr(request, "session_hash", None) or "")
        except Exception as exc:  # noqa: BLE001 - the refusal is shown in the card, a bug is logged
            text = str(exc) if isinstance(exc, UserError) else f"{shown}: internal error while checking the file (logged)."
            if not isinstance(exc, UserError):
                log.error("upload of %s failed", src.name, exc_info=exc)
            warn(f"Upload refused: {text}")
            return {"card": f"**Upload refused:** {md_text(text)}", "upload": None}
        finally:
            gradio_files.forget(src)
        if done.already_listed:
            title = next((label for label, n in choices(self.ws) if n == done.name), done.name)
            info(f"{shown} is the same file as the listed model “{title}”: selected it.")
            return {"model": gr.update(value=done.name), "card": self.card(done.name), "upload": None}
        unloaded = f" To make room, {', '.join(done.unloaded)} was unloaded." if done.unloaded else ""
        info(f"{shown} loaded.{unloaded}")
        return {"model": gr.update(choices=choices(self.ws), value=done.name), "card": self.card(done.name), "upload": None}

    def build(self):
        """The header: title, model picker, and one-click panels for the model card and loading a file."""
        with gr.Row(elem_id="le-header", equal_height=True):
            gr.HTML(f'<div class="le-title"><b>{texts.TITLE}</b><span>{texts.TAGLINE_SHORT}</span></div>', scale=3)
            # an unloaded upload may still be the page's value: the handlers say so in words (a plain
            # gr.Dropdown answered with Gradio's "Value: upload-… is not in the list of choices")
            model = Dropdown(choices(self.ws), value=self.default, label="Model", elem_id="model-picker", scale=3,
                             min_width=240)
            show_pixels = gr.Checkbox(False, label="Show the pixels", elem_id="show-pixels", scale=0, min_width=130,
                                      container=False)
            self.tour_button = gr.Button("▶ Tour", elem_id="tour-open", scale=0, min_width=90)
            present_button()
        show_pixels.change(fn=None, inputs=[show_pixels], js=SHOW_PIXELS_JS)
        with gr.Row(elem_id="le-header-panels"):
            with gr.Accordion("Model card", open=False, elem_id="model-card-panel"):
                card = gr.Markdown(self.card(self.default), elem_id="model-card")
            with gr.Accordion("Load a model file…", open=False, elem_id="model-upload-panel"):
                upload = gradio_files.FileBox(label="A .safetensors checkpoint written by Latent Explorer, or your own decoder "
                                              "as .onnx", file_types=[".safetensors", ".onnx"],
                                 type="filepath", elem_id="model-upload", height=90)
        self.parts = p = Parts(model=model, card=card, upload=upload)
        self.upload_event = upload.upload(**event(p, self.upload, ["upload"], ["model", "card", "upload"]))
        model.change(**event(p, self.card_update, ["model"], ["card"]))
        return model, card

    def card_update(self, model):
        return {"card": self.card(model)}
