"""Named API endpoints (gradio_client or plain HTTP): render, interpolate, map_select, models, ping.

Each one is a thin wrapper that validates and calls the Workspace; errors come back as gr.Error
with the same plain message the UI shows.
"""
from __future__ import annotations

import base64
import binascii
import functools
import logging

import gradio as gr

from explorer.core.imaging import gif_data_url, png_data_url
from explorer.core.validation import UserError, check_flag, check_int
from explorer.explore.workspace import MAX_FRAMES, Workspace
from explorer.live.forecast import MACHINE_SPEEDS, what_this_machine_shows
from explorer.live.session import TrainingSession
from explorer.live.settings import ImageSettings, ToySettings

log = logging.getLogger(__name__)
# putting a picture in the latent space (a GAN refines for seconds): at most this many at once, the
# API's /encode and the page's "Use my own picture" together (one Gradio concurrency group)
ENCODE_CONCURRENCY, ENCODE_GROUP = 2, "encode-picture"


def guard(fn):
    """User errors come back as their plain message (and one line in the log); anything else is a
    bug: logged with its traceback and answered with "internal error, logged", never dressed up as
    a user message. Gradio prints no traceback of its own for either."""
    @functools.wraps(fn)      # keeps the signature: gradio reads the parameters from it
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except UserError as exc:          # one line in the log, no traceback: the caller's mistake
            log.info("API call %s refused: %s", fn.__name__, str(exc)[:300])
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception:
            log.exception("API call %s failed", fn.__name__)       # a bug: its traceback, once
            raise gr.Error("Internal error, logged on the server.", print_exception=False) from None
    return wrapped


def endpoints(ws: Workspace, session: TrainingSession | None = None) -> list[tuple[object, int | None]]:
    """(function, concurrency limit) of every endpoint: plain functions of plain values, which check
    what they are sent (the API's edge) and raise UserError for a bad value."""
    def ping() -> str:
        """Does nothing: Gradio's own request floor, for benchmarks."""
        return "ok"

    def models() -> list:
        """Names of the explorable models."""
        return ws.model_names()

    def render(model: str, seed: int = 0, temperature: float = 1.0, sliders: list = None, direction: str = "",
               amount: float = 0.0, base: list = None, class_index: int | None = None) -> dict:
        """Render one picture from a recipe. `class_index`: what a class-conditional model draws (default
        0; an unconditional model refuses one). Returns {image: PNG data URL, latent: [...], recipe: text,
        class_index, class_name}."""
        # every value is checked (and typed) here, once: each refusal names the value and its range
        r = ws.recipe({"model": str(model), "seed": seed, "temperature": temperature, "sliders": sliders,
                       "direction": direction, "amount": amount, "base": base, "class": class_index})
        image, z = ws.render(r)
        return {"image": png_data_url(image), "latent": [float(v) for v in z], "recipe": r.to_text(),
                "class_index": r.cls, "class_name": ws.model(r.model).class_label(r.cls) if r.cls is not None else None}

    def class_row(model: str, latent: list) -> dict:
        """A class-conditional model's latent drawn as every class ("same style, another class").
        Returns {classes: [names], images: [PNG data URLs]}, class 0 first."""
        m = ws.model(str(model))
        images = ws.class_row(m.name, m.check_one_latent(latent, "The latent"))
        return {"classes": m.class_labels(), "images": [png_data_url(im) for im in images]}

    def interpolate(model: str, start: list, end: list, frames: int = 10, class_index: int | None = None) -> dict:
        """Linear and spherical paths between two latents (drawn in `class_index` for a class-conditional
        model). Returns frames as PNG data URLs, an animated GIF (data URL, linear left / spherical right)
        and the latent length along each path."""
        import numpy as np
        m = ws.model(str(model))
        frames = check_int("Frames", frames, 2, MAX_FRAMES)
        a, b = m.check_one_latent(start, "The start latent"), m.check_one_latent(end, "The end latent")
        res = ws.interpolate(m.name, a, b, frames, m.check_class(class_index))
        return {"linear": [png_data_url(im) for im in res["linear"]],
                "spherical": [png_data_url(im) for im in res["spherical"]],
                "gif": gif_data_url(np.concatenate([res["linear"], res["spherical"]], axis=2)),
                "linear_norm": res["linear_norm"].tolist(), "spherical_norm": res["spherical_norm"].tolist()}

    def map_select(model: str, index: int) -> dict:
        """A point of the model's map: its label, latent and pictures (test image for a VAE, and the decoding)."""
        item = ws.map_item(str(model), index)
        out = {"index": item["index"], "label": item["label"], "latent": [float(v) for v in item["latent"]],
               "decoded": png_data_url(item["decoded"]), "class_index": item["class"]}
        if item["original"] is not None:
            out["original"] = png_data_url(item["original"])
        return out

    def encode(model: str, image: str, refine: bool = True) -> dict:
        """Put a picture in the model's latent space. `image`: a PNG/JPEG/WebP/GIF as a data URL or base64
        text. Returns the latent, scores in plain words and numbers, and the pictures as PNG data URLs
        (the prepared input, the reconstruction; for a GAN also the encoder's first guess before refinement)."""
        if not isinstance(image, str) or not image:
            raise UserError("image must be a picture file as a data URL or base64 text.")
        if image.startswith("data:"):
            _, comma, image = image.partition(",")
            if not comma:
                raise UserError("image is a data URL without a comma: it must look like data:image/png;base64,iVBOR…")
        try:
            data = base64.b64decode(image, validate=True)
        except (ValueError, binascii.Error):
            raise UserError("image is not valid base64: send the picture file as a data URL or base64 text.") from None
        enc = ws.encode_picture(str(model), data, refine=check_flag("refine", refine))
        out = {**enc.to_json(), "input": png_data_url(enc.input), "reconstruction": png_data_url(enc.reconstruction)}
        if enc.guess is not None:
            out["guess"] = png_data_url(enc.guess)
        return out

    def train_2d_start(dataset: str = "ring", loss: str = "non-saturating", lr_g: float = 1e-3, lr_d: float = 1e-3,
                       k: int = 1, batch_size: int = 128, noise_dim: int = 2) -> dict:
        """Start a live 2-D GAN run. Returns its status with "owner": the token every control call needs.
        Refused while another client's run is going (unless that client has gone quiet)."""
        owner = session.start_toy(ToySettings(dataset, loss, lr_g, lr_d, k, batch_size, noise_dim))
        return {**train_status(owner), "owner": owner}

    def train_images_start(dataset: str = "digits", model: str = "dcgan", loss: str = "non-saturating", lr: float = 2e-4,
                           k: int = 1, batch_size: int = 64, label_smoothing: float = 1.0,
                           conditional: bool = False) -> dict:
        """Start a live image-model run (DCGAN or VAE on digits or fashion-mnist; `conditional`: class-conditional,
        a GAN then with the non-saturating or minimax loss). Returns its status with "owner"."""
        owner = session.start_images(ImageSettings(dataset, model, loss, lr, k, batch_size, label_smoothing,
                                                   conditional=conditional))
        return {**train_status(owner), "owner": owner}

    def train_forecast(dataset: str = "digits", model: str = "dcgan", conditional: bool = False,
                       batch_size: int = 64) -> dict:
        """Before Start: this machine's speed for that run (timed once, or learnt from a run), the steps
        its grid needs to be recognisable, how long that takes here, the quick run where it takes more
        than a few minutes ("quick"), the sentences the Train tab shows ("lines"), and what the dataset
        choice says about datasets not offered yet ("not_offered")."""
        settings = ImageSettings(dataset, model, batch_size=batch_size, conditional=conditional)
        return what_this_machine_shows(MACHINE_SPEEDS, settings, session.device, session.status())

    def train_status(owner: str = "") -> dict:
        """The live run: state, step, steps/s, where it runs, the latest readings; "mine" if `owner` owns it."""
        snap = session.status(owner or None)
        last = snap.pop("history")[-1:] or [{}]
        return {**snap, "latest": last[0]}

    def train_control(owner: str, action: str) -> dict:
        """pause | play | stop | rollback | d | g (single steps while paused) on the run `owner` started."""
        session.control(owner, action)
        return train_status(owner)

    def train_stop(owner: str) -> dict:
        """Stop the run `owner` started."""
        session.control(owner, "stop")
        return train_status(owner)

    out = [(ping, None), (models, None), (render, None), (class_row, None), (interpolate, 4), (map_select, None),
           (encode, ENCODE_CONCURRENCY)]
    if session is not None:
        out += [(train_2d_start, 1), (train_images_start, 1), (train_status, None), (train_control, 1), (train_stop, 1),
                (train_forecast, 1)]
    return out


def register(ws: Workspace, session: TrainingSession | None = None) -> None:
    """Every endpoint under its own name, behind the guard (inside a Blocks)."""
    for fn, limit in endpoints(ws, session):
        gr.api(guard(fn), api_name=fn.__name__, concurrency_limit=limit, queue=True,
               concurrency_id=ENCODE_GROUP if fn.__name__ == "encode" else None)
