"""Model picker: every explorable checkpoint, plus uploads of .safetensors files, with the model card."""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from explorer.core.checkpoints import CheckpointError
from explorer.core.validation import UserError
from explorer.explore.workspace import Workspace
from explorer.ui import texts

MAX_UPLOAD_MB = 200
UPLOAD_DIR = Path(tempfile.mkdtemp(prefix="latent-explorer-uploads-"))


def choices(ws: Workspace) -> list[tuple[str, str]]:
    return [(meta.get("title") or name, name) for name, meta in sorted(ws.registry.available().items())]


class Picker:
    def __init__(self, ws: Workspace, default: str):
        self.ws, self.default = ws, default

    def card(self, name):
        try:
            return self.ws.card(name)
        except (UserError, CheckpointError, ValueError) as exc:
            return f"**Cannot show this model:** {exc}"

    def upload(self, file_path):
        """Validate an uploaded file and register it under a generated name (never the user's file name)."""
        if not file_path:
            return gr.update(), gr.update()
        src = Path(file_path)
        dst = None
        try:
            if src.suffix.lower() != ".safetensors":
                raise CheckpointError("Only .safetensors checkpoints can be loaded.")
            if src.stat().st_size > MAX_UPLOAD_MB * 1024 * 1024:
                raise CheckpointError(f"The file is larger than {MAX_UPLOAD_MB} MB.")
            digest = hashlib.sha256(src.read_bytes()).hexdigest()[:12]
            name = f"upload-{digest}"
            dst = UPLOAD_DIR / f"{name}.safetensors"
            shutil.copyfile(src, dst)
            self.ws.registry.add_file(dst, name)
            self.ws.model(name)          # full validation: metadata, every tensor's shape, finite values
        except (CheckpointError, UserError, ValueError, OSError) as exc:
            if dst is not None and dst.exists():
                dst.unlink()             # nothing refused stays on disk
            gr.Warning(f"Upload refused: {exc}")
            return gr.update(), f"**Upload refused:** {exc}"
        gr.Info("Model loaded.")
        return gr.update(choices=choices(self.ws), value=name), self.card(name)

    def build(self):
        """The header: title, model picker, and one-click panels for the model card and loading a file."""
        with gr.Row(elem_id="le-header", equal_height=True):
            gr.HTML(f'<div class="le-title"><b>{texts.TITLE}</b><span>{texts.TAGLINE_SHORT}</span></div>', scale=3)
            model = gr.Dropdown(choices(self.ws), value=self.default, label="Model", elem_id="model-picker", scale=3,
                                min_width=240)
            self.tour_button = gr.Button("▶ Tour", elem_id="tour-open", scale=0, min_width=90)
        with gr.Row(elem_id="le-header-panels"):
            with gr.Accordion("Model card", open=False, elem_id="model-card-panel"):
                card = gr.Markdown(self.card(self.default), elem_id="model-card")
            with gr.Accordion("Load a model file…", open=False, elem_id="model-upload-panel"):
                upload = gr.File(label="A .safetensors checkpoint written by Latent Explorer", file_types=[".safetensors"],
                                 type="filepath", elem_id="model-upload", height=90)
        self.upload_event = upload.upload(self.upload, upload, [model, card], api_visibility="private")
        model.change(self.card, model, card, api_visibility="private")
        return model, card
