"""Your own picture in the latent space: encode it (VAE) or invert it (GAN), as plain functions.

  VAE: the encoder's posterior mean is the point; a few samples from q(z|x), decoded, show how
       sure the model is (similar pictures: sure; different ones: the picture is ambiguous to it).
  GAN: the GAN's learned encoder (`<stem>-encoder.safetensors` beside it, trained with
       `python -m explorer.train --model encoder --for GAN`) gives a first guess, which
       refinement (Adam on z, explorer/eval/refine.py) polishes within a step and time budget,
       reporting progress. A GAN without a matching encoder starts from the best of a few random
       latents instead, and the notes say so.
  ONNX decoder (no gradients): the same, with its encoder `<stem>-encoder.onnx` where there is one,
       and a bounded gradient-free search (explorer/eval/search.py) in place of refinement.
Either way the result carries the prepared input, the reconstruction, scores in plain words and
timings; `latent` can become the current point of Explore, an interpolation end or a map marker.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import CheckpointError, load_checkpoint, read_metadata
from explorer.core.colour_picture import prepare_colour_picture
from explorer.core.picture import PreparedPicture, prepare_picture
from explorer.core.validation import UserError, check_int, check_number, check_seed
from explorer.eval.features import classify
from explorer.eval.inversion import scores
from explorer.core.families.onnx import OnnxEncoder
from explorer.eval.refine import REFINE_SECONDS, REFINE_STEPS, Progress, refine_latent
from explorer.eval.search import SEARCH_STEPS, search_latent
from explorer.explore.registry import LoadedModel

RANDOM_STARTS = 16        # without an encoder: the best of this many random latents starts refinement
MAX_SAMPLES = 16          # VAE: most samples from q(z|x) shown


@dataclass
class Encoding:
    model: str
    kind: str                                   # the model's family ("vae", "dcgan", ...)
    latent: np.ndarray                          # float32 (D,): the point (VAE: posterior mean; GAN: refined)
    input: np.ndarray                           # uint8 (H, W) grey or (H, W, 3) colour: the prepared picture the model saw
    reconstruction: np.ndarray                  # uint8 (H, W, C): the latent decoded
    scores: dict                                # pixel_mse, feature_distance, label(s), same_label, verdict
    notes: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    guess_latent: np.ndarray | None = None      # GAN: the encoder's guess before refinement (D,)
    guess: np.ndarray | None = None             # GAN: it decoded, uint8 (H, W, C)
    guess_scores: dict | None = None
    guessed_by: str = ""                        # GAN: "encoder", or "random starts" (the best of RANDOM_STARTS)
    refine_steps: int = 0                       # GAN: refinement steps done
    stopped_by: str = ""                        # GAN: "steps", "time", "stop" or "" (no refinement)
    samples: np.ndarray | None = None           # VAE: decoded samples from q(z|x), uint8 (K, H, W, C)
    cls: int | None = None                      # a class-conditional model: the class it drew the picture in
    sample_latents: np.ndarray | None = None    # VAE: (K, D)
    posterior_std: np.ndarray | None = None     # VAE: std of q(z|x) per coordinate (D,)

    def to_json(self) -> dict:
        """Plain JSON-able numbers and words (pictures left out) for the API and the command line."""
        out = {"model": self.model, "kind": self.kind, "latent": [round(float(v), 6) for v in self.latent],
               "scores": self.scores, "notes": list(self.notes),
               "seconds": {k: round(v, 4) for k, v in self.seconds.items()}}
        if self.guess_latent is not None:
            out.update(guess_latent=[round(float(v), 6) for v in self.guess_latent], guess_scores=self.guess_scores,
                       refine_steps=self.refine_steps, stopped_by=self.stopped_by)
        if self.cls is not None:
            out["class"] = self.cls
        if self.posterior_std is not None:
            out["posterior_std"] = [round(float(v), 6) for v in self.posterior_std]
            out["sample_latents"] = [[round(float(v), 6) for v in row] for row in self.sample_latents]
        return out


def _class_note(model: LoadedModel, cls: int | None) -> list[str]:
    if cls is None:
        return []
    name = model.class_names[cls] if cls < len(model.class_names) else str(cls)
    return [f"drawn in the class {name}: the one the classifier reads in your picture"]


def _unit(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float (N, C, H, W) in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def _prepared(model: LoadedModel, picture) -> PreparedPicture:
    """The picture prepared for the model's size and colours: a grey model's the Fashion-MNIST way,
    a colour model's the emoji way (explorer/core/colour_picture.py)."""
    if isinstance(picture, PreparedPicture):
        return picture
    f = model.family
    if f.channels == 3:
        return prepare_colour_picture(picture, f.image_size)
    return prepare_picture(picture, f.image_size)


def _decoding(model: LoadedModel, cls: int | None = None):
    """z -> G(z) in [0, 1] (in class `cls` for a class-conditional model) with gradients to z, one
    forward at a time per shared model (other requests interleave between refinement steps)."""
    f = model.family

    def decode(z: torch.Tensor) -> torch.Tensor:
        y = None if cls is None else torch.full((len(z),), cls, dtype=torch.long, device=z.device)
        with model.lock:
            return f.decode_with_grad(z, y)                                           # (B, C, H, W)
    return decode


def _searching(model: LoadedModel, cls: int | None = None):
    """z (B, D) -> pictures in [0, 1] without gradients (in class `cls` for a class-conditional model)."""
    def decode(z: torch.Tensor) -> torch.Tensor:
        y = None if cls is None else torch.full((len(z),), cls, dtype=torch.long)
        with model.lock:
            return model.family.decode(z.to(model.device), y).cpu()
    return decode


def class_of(classifier, model: LoadedModel, x: torch.Tensor) -> int | None:
    """A class-conditional model draws a picture in a class: the one the dataset's classifier reads in
    it (the model's classes are its dataset's); None for a model without classes."""
    if not model.num_classes:
        return None
    _, label = classify(classifier, x)
    return int(label[0])


def encoder_path(model: LoadedModel) -> Path | None:
    """Where the model's learned encoder would be: beside it, `<stem>-encoder` with the model file's suffix."""
    path = model.path
    return path.with_name(f"{path.stem}-encoder{path.suffix}") if path is not None else None


class PictureEncoder:
    """Encodes pictures for loaded models; loads each GAN's encoder once. Thread-safe.

    `classifier` is the evaluation classifier (a module, or a callable that returns it, so a
    Workspace can share the one it already loaded)."""

    def __init__(self, classifier):
        self._classifier = classifier
        self._encoders: dict[tuple, torch.nn.Module | str] = {}
        self._lock = threading.Lock()

    def classifier(self):
        return self._classifier() if callable(self._classifier) and not isinstance(self._classifier, torch.nn.Module) \
            else self._classifier

    def encoder_for(self, model: LoadedModel):
        """The GAN's encoder module, or a sentence saying why there is none."""
        path = encoder_path(model)
        key = (model.name, model.digest, path)        # the same GAN in another folder may have no encoder
        with self._lock:
            if key in self._encoders:
                return self._encoders[key]
        gan_file = path.name.replace("-encoder", "") if path is not None else model.name
        if model.family.trains_encoder:
            train = f" yet (train one with `python -m explorer.train --model encoder --for {gan_file}`)"
        elif path is not None and path.suffix == ".onnx":
            train = f" (export one beside it as {path.name})"
        else:                         # a style-based model: projected by optimisation alone
            train = ""
        if path is None or not path.is_file():
            found = f"{model.name} has no encoder{train}"
        elif path.suffix == ".onnx":
            try:
                found = OnnxEncoder(path, model.family)
            except UserError as exc:
                found = f"the encoder file is unusable: {exc}"
        else:
            try:
                meta = read_metadata(path)
                target = meta.get("for", {}).get("digest")
                if meta["kind"] != "encoder":
                    found = f"{path.name} holds a {meta['kind']}, not an encoder"
                elif target != model.digest:
                    found = f"{path.name} was trained for another version of {model.name}{train}"
                else:
                    found = load_checkpoint(path, model.device).modules["encoder"].eval()
                    if found.cfg.latent_dim != model.latent_dim:
                        found = f"{path.name} predicts {found.cfg.latent_dim} numbers, {model.name} reads {model.latent_dim}"
            except CheckpointError as exc:
                found = f"the encoder file is unusable: {exc}"
        if model.family.inversion == "refine":
            self._warm_up(model, found)
        with self._lock:
            return self._encoders.setdefault(key, found)

    def _warm_up(self, model: LoadedModel, encoder) -> None:
        """Two refinement steps on a blank picture: the first backward pass through a model builds its
        kernels (up to 8 s measured on the shared 2-core CPU), which would otherwise eat a person's time budget."""
        f = model.family
        x = torch.zeros(1, f.channels, f.image_size, f.image_size, device=model.device)
        with torch.no_grad():
            z0 = encoder(x) if not isinstance(encoder, str) else torch.zeros(1, model.latent_dim, device=model.device)
        refine_latent(_decoding(model, 0 if model.num_classes else None), self.classifier().features, x, z0,
                      steps=2, seconds=None)

    # ---------------------------------------------------------------- VAE
    def encode_vae(self, model: LoadedModel, picture, samples: int = 4, seed: int = 0) -> Encoding:
        samples = check_int("Samples", samples, 0, MAX_SAMPLES)
        seed = check_seed(seed)
        t0 = time.perf_counter()
        pic = _prepared(model, picture)
        t1 = time.perf_counter()
        classifier = self.classifier()
        x = pic.unit().to(model.device)
        cls = class_of(classifier, model, x)
        y = None if cls is None else torch.tensor([cls], device=model.device)
        with model.lock:
            mean, logvar = model.family.encode(x, y)                                  # (1, D) each
        mean, std = mean[0].cpu(), torch.exp(0.5 * logvar[0]).cpu()
        eps = torch.randn(samples, len(mean), generator=torch.Generator().manual_seed(seed))
        z_samples = mean[None] + std[None] * eps                                      # (K, D)
        images = model.decode(torch.cat([mean[None], z_samples]), cls)               # (1 + K, H, W, C)
        t2 = time.perf_counter()
        s = scores(classifier, pic.unit(), _unit(images[:1]), model.class_names)
        return Encoding(model.name, model.family.kind, mean.numpy(), pic.picture, images[0], s, list(pic.notes) + _class_note(model, cls),
                        {"prepare": t1 - t0, "encode": t2 - t1, "total": time.perf_counter() - t0},
                        samples=images[1:], sample_latents=z_samples.numpy(), posterior_std=std.numpy(), cls=cls)

    # ---------------------------------------------------------------- GAN
    def invert_gan(self, model: LoadedModel, picture, steps: int = REFINE_STEPS, seconds: float = REFINE_SECONDS,
                   seed: int = 0, progress: Progress | None = None, stop=None) -> Encoding:
        steps = check_int("Refinement steps", steps, 0, 2000)
        seconds = check_number("Refinement time (seconds)", seconds, 0.0, 60.0)
        seed = check_seed(seed)
        encoder = self.encoder_for(model)          # loaded (and warmed up) once per model
        t0 = time.perf_counter()                   # the time budget counts from here: preparing included
        pic = _prepared(model, picture)
        notes = list(pic.notes)
        x = pic.unit().to(model.device)                                               # (1, C, H, W)
        classifier = self.classifier()
        cls = class_of(classifier, model, x)
        notes += _class_note(model, cls)
        search = model.family.inversion == "search"        # no gradients: a gradient-free search instead
        decode = _searching(model, cls) if search else _decoding(model, cls)

        t1 = time.perf_counter()
        if isinstance(encoder, str):
            notes.append(f"no learned encoder: {encoder}; started from the best of {RANDOM_STARTS} random latents")
            z_start = model.family.seed_latents(RANDOM_STARTS, seed).to(model.device)
            with torch.no_grad():
                err = (decode(z_start) - x).pow(2).flatten(1).mean(1)
            guess = z_start[int(err.argmin())][None]
        else:
            with torch.no_grad():
                guess = encoder(x)                                                    # (1, D)
        t2 = time.perf_counter()
        # the budget covers preparing and the encoder too, and keeps 5 % for decoding and scoring after
        left = 0.95 * seconds - (time.perf_counter() - t0)
        if search:
            r = search_latent(decode, classifier.features, x.cpu(), guess.cpu(), steps=min(steps, SEARCH_STEPS),
                              seconds=max(0.0, left), seed=seed, progress=progress, stop=stop)
        else:
            r = refine_latent(decode, classifier.features, x, guess, steps=steps, seconds=max(0.0, left),
                              progress=progress, stop=stop, typical=model.family.typical_norm)
        t3 = time.perf_counter()
        images = model.decode(torch.cat([guess, r.z]).detach().cpu(), cls)           # (2, H, W, C)
        s_guess = scores(classifier, pic.unit(), _unit(images[:1]), model.class_names)
        s = scores(classifier, pic.unit(), _unit(images[1:]), model.class_names)
        if r.stopped_by == "time":
            notes.append(f"{'the search' if search else 'refinement'} stopped at its time budget ({seconds:g} s) "
                         f"after {r.steps} steps")
        return Encoding(model.name, model.family.kind, r.z[0].detach().cpu().numpy(), pic.picture, images[1], s, notes,
                        {"prepare": t1 - t0, "encoder": t2 - t1, "refine": t3 - t2,
                         "total": time.perf_counter() - t0},
                        guess_latent=guess[0].detach().cpu().numpy(), guess=images[0], guess_scores=s_guess,
                        refine_steps=r.steps, stopped_by=r.stopped_by, cls=cls,
                        guessed_by="random starts" if isinstance(encoder, str) else "encoder")

    def encode(self, model: LoadedModel, picture, **kw) -> Encoding:
        """As the model's family places a picture (`Family.inversion`): its own encoder (encode_vae) or a
        refined guess (invert_gan); keyword arguments go to the one that applies."""
        how = model.family.inversion
        if how == "encode":
            return self.encode_vae(model, picture, **{k: v for k, v in kw.items() if k in ("samples", "seed")})
        if how in ("refine", "search"):
            return self.invert_gan(model, picture, **{k: v for k, v in kw.items()
                                                      if k in ("steps", "seconds", "seed", "progress", "stop")})
        raise UserError(f"{model.name} cannot place a picture in its latent space: a {model.family.words} like it "
                        "has no encoder and cannot be refined.")
