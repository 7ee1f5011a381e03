"""Everything the UI asks for, as plain functions of plain arguments (no Gradio here).

A Workspace owns the shared, read-only parts: the model registry, each model's directions (cached
on disk) and maps (cached on disk, computed in the background). Each request brings its own
state (model name, seed, slider values, latent), so sessions never share mutable state.
"""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save

from explorer.core.checkpoints import CHECKPOINT_DIR, _write_atomic, model_card
from explorer.core.data import to_unit
from explorer.core.latent import fractions, lerp, sample_z, slerp
from explorer.core.metadata import DatasetInfo
from explorer.core.priority import InteractiveGate
from explorer.eval.features import classifier_path_for, load_classifier
from explorer.core.validation import UserError, check_int, check_number, check_seed
from explorer.explore.class_routes import classifier_judge
from explorer.explore.directions import Directions, gan_directions, vae_directions
from explorer.explore.registry import MAX_LATENT, LoadedModel, ModelRegistry
from explorer.maps.cache import CACHE_DIR
from explorer.maps.store import MapStore

log = logging.getLogger(__name__)
SIGMA_STRIP = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
MAX_FRAMES = 64


def _number(value):
    """Text that reads as a number (an API client's "inf", "3") is that number, so the refusal
    shows the number; other text is left for the check to refuse by name."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


@dataclass
class Recipe:
    """Everything that determines an Explore image; shown to the user and pasteable back."""
    model: str
    seed: int = 0
    temperature: float = 1.0          # scales the seed's noise: small = typical, large = unusual
    sliders: tuple[float, ...] = ()   # principal-direction coordinates, in sigmas (empty = the seed's own)
    direction: str = ""               # a named direction ("more like Sneaker"), or ""
    amount: float = 0.0               # how far along it
    base: tuple[float, ...] = ()      # a starting latent (e.g. a map point) used instead of the seed's
    cls: int | None = None            # the class a class-conditional model draws (None: unconditional)

    def to_text(self) -> str:
        d = {"model": self.model, "seed": self.seed, "temperature": round(self.temperature, 4),
             "sliders": [round(s, 4) for s in self.sliders], "direction": self.direction, "amount": round(self.amount, 4)}
        if self.cls is not None:
            d["class"] = self.cls
        if self.base:
            d["base"] = [round(v, 5) for v in self.base]
        return json.dumps(d)

    @classmethod
    def from_text(cls, text: str) -> "Recipe":
        try:
            d = json.loads(text)
            r = cls(model=str(d["model"]), seed=d.get("seed", 0), temperature=d.get("temperature", 1.0),
                    sliders=tuple(d.get("sliders", [])), direction=str(d.get("direction", "")),
                    amount=d.get("amount", 0.0), base=tuple(d.get("base", [])), cls=d.get("class"))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise UserError('Could not read that recipe; it looks like {"model": ..., "seed": 3, "sliders": [...]}.') from None
        return r.checked()

    def checked(self) -> "Recipe":
        """This recipe with every value checked and typed (seed int, the rest floats), or a UserError
        naming the first bad value, its allowed range and what was given. The latent's length is
        checked against the model by Workspace.check_recipe."""
        if not isinstance(self.model, str):
            raise UserError("A model name must be text.")
        for what, seq in (("Sliders", self.sliders), ("The base latent", self.base)):
            if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__iter__"):
                raise UserError(f"{what} must be a list of numbers, got {type(seq).__name__}.")
        if not isinstance(self.direction, str):
            raise UserError("A direction must be text (its name in the list).")
        return Recipe(self.model, check_seed(_number(self.seed)),
                      check_number("Temperature", _number(self.temperature), 0.0, 3.0),
                      tuple(check_number(f"Slider {i + 1}", _number(v), -10, 10) for i, v in enumerate(self.sliders)),
                      self.direction, check_number("Amount", _number(self.amount), -5, 5),
                      tuple(check_number(f"Base latent value {i + 1}", _number(v), -MAX_LATENT, MAX_LATENT)
                            for i, v in enumerate(self.base)),
                      None if self.cls is None or self.cls == "" else check_int("Class", _number(self.cls), 0, 10_000))



class Workspace:
    def __init__(self, folder: Path = CHECKPOINT_DIR, device="cpu", cache_dir: Path = CACHE_DIR):
        self.registry = ModelRegistry(folder, device)
        self.cache_dir = Path(cache_dir)
        self._directions: dict[str, Directions] = {}
        self._manifolds: dict[tuple, np.ndarray] = {}
        self._test_sets: dict = {}
        self._classifiers: dict[str, object] = {}
        self._picture_encoders: dict[str, object] = {}
        self._lock = threading.Lock()
        self.maps = MapStore(self.classifier_path, cache_dir=self.cache_dir)
        self.gate = InteractiveGate()     # slider drags go before the training thread's next step

    # ---------------------------------------------------------------- models
    def model_names(self) -> list[str]:
        return sorted(self.registry.available())

    def model(self, name: str) -> LoadedModel:
        return self.registry.get(name)

    def card(self, name: str) -> str:
        m = self.model(name)
        return model_card(m.meta, m.meta.get("title", name))

    def test_set(self, name: str):
        """The test split of the model's dataset, read once (hover pictures and endpoints ask often)."""
        from explorer.core.data import load_dataset
        ds_name = DatasetInfo.from_meta(self.model(name).meta).name
        with self._lock:
            if ds_name not in self._test_sets:
                self._test_sets[ds_name] = load_dataset(ds_name, "test")
            return self._test_sets[ds_name]

    def classifier_path(self, dataset: str) -> Path | None:
        """The classifier trained on `dataset` (in the models folder or the shipped one), or None."""
        return classifier_path_for(dataset, (self.registry.folder, CHECKPOINT_DIR))

    def classifier(self, dataset: str):
        """The classifier of `dataset` (labels GAN samples for class directions and the map), or None
        when there is none: then no labels are shown rather than labels from another dataset."""
        with self._lock:
            if dataset not in self._classifiers:
                path = self.classifier_path(dataset)
                self._classifiers[dataset] = None if path is None else load_classifier(path, self.registry.device)
            return self._classifiers[dataset]

    # ---------------------------------------------------------------- directions
    def directions(self, name: str) -> Directions:
        """Principal and named directions, cached on disk by model content and format version.

        Named class directions exist only where a classifier of the model's own dataset can judge the
        pictures; computing them judges ~20 000 pictures once (45-105 s on one busy CPU core)."""
        if name in self._directions:
            return self._directions[name]
        m = self.model(name)
        path = (m.cache_dir or self.cache_dir) / f"{name}-{m.digest}-directions.safetensors"   # uploads: the runtime folder
        d = None
        if path.is_file():
            try:
                with safe_open(str(path), "pt") as f:
                    meta = json.loads(f.metadata()["class_names"])
                d = Directions.from_tensors(load_file(str(path)), meta)
            except Exception as exc:      # an older format or a damaged file: recompute, never misread
                log.warning("recomputing directions for %s: %s", name, exc)
        if d is None:
            # named class directions need a classifier of the model's own dataset; a conditional model
            # has none: its class is chosen directly
            clf = None if m.num_classes else self.classifier(DatasetInfo.from_meta(m.meta).name)
            if m.kind == "vae":
                d = vae_directions(m.checkpoint, classifier=clf)
            else:
                d = gan_directions(m.checkpoint, classifier=clf)
            _write_atomic(path, save(d.to_tensors(), metadata={"class_names": json.dumps(d.class_names)}))
        self._directions[name] = d
        return d

    # ---------------------------------------------------------------- explore
    def check_recipe(self, r: Recipe) -> Recipe:
        """`r.checked()`, plus the base latent's length and the class checked against the model
        (a conditional model without a class draws class 0)."""
        r = r.checked()
        m = self.model(r.model)
        if r.base:
            m.check_one_latent(list(r.base), "The base latent")
        cls = m.check_class(r.cls)
        return r if cls == r.cls else Recipe(r.model, r.seed, r.temperature, r.sliders, r.direction, r.amount, r.base, cls)

    def latent(self, r: Recipe) -> torch.Tensor:
        r = self.check_recipe(r)
        m = self.model(r.model)
        # the starting point (the seed's noise, or a given latent) scaled towards or away from the centre:
        # the sliders read their positions off this point, so they move with the temperature
        start = torch.tensor(r.base, dtype=torch.float32) if r.base else sample_z(1, m.latent_dim, r.seed)[0]
        z = start * r.temperature
        d = self.directions(r.model)
        if r.sliders:
            if len(r.sliders) > len(d.basis):
                raise UserError(f"{r.model} has {len(d.basis)} slider directions, got {len(r.sliders)} values.")
            full = d.coordinates(z)
            full[:len(r.sliders)] = torch.tensor(r.sliders)
            z = d.apply(z, full)
        if r.direction:
            d.info(r.direction)       # an unknown or failing direction is refused before the classifier loads
            # a named direction is a route judged by the classifier; its end is remembered per latent
            judge = classifier_judge(m.decoder, self.classifier(DatasetInfo.from_meta(m.meta).name), m.lock)
            z = d.move(z, r.direction, r.amount, judge)
        return z

    def render(self, r: Recipe) -> tuple[np.ndarray, torch.Tensor]:
        """(image (H, W, C) uint8, latent (D,)) for a recipe."""
        with self.gate.interactive():
            r = self.check_recipe(r)
            z = self.latent(r)
            return self.model(r.model).decode(z[None], r.cls)[0], z

    def class_row(self, name: str, z) -> np.ndarray:
        """A conditional model's latent z (D,) drawn in every class: uint8 (K, H, W, C), class 0 first."""
        from explorer.explore.conditional import class_row
        with self.gate.interactive():
            return class_row(self.model(name), z)

    def slider_values(self, name: str, seed: int, temperature: float, base=None) -> list[float]:
        """Where the starting latent (the seed's, or `base`) sits along each principal direction."""
        r = Recipe(name, seed=seed, temperature=temperature, base=tuple(base or ()))
        return self.directions(name).coordinates(self.latent(r)).tolist()

    def dataset_latent(self, name: str, index: int) -> torch.Tensor:
        """A test picture's latent: the VAE's encoding of it (posterior mean). A GAN has no encoder, so it
        cannot place a real picture: it is refused rather than answered with some other picture's latent."""
        m = self.model(name)
        if m.kind != "vae":
            raise UserError(f"{name} is a GAN: it has no encoder, so it cannot place a test picture. "
                            "Pick a dot on the Map instead (its pictures are the GAN's own).")
        test = self.test_set(name)
        i = check_int("Test picture number", index, 0, len(test) - 1)
        y = test.labels[i:i + 1].to(m.device) if m.num_classes else None     # a cVAE encodes with the true class
        with torch.inference_mode():
            return m.checkpoint.modules["vae"].encode(to_unit(test.images[i:i + 1]).to(m.device), y)[0][0].cpu()

    def strip(self, name: str, z, index: int, sigmas=SIGMA_STRIP, cls=None) -> np.ndarray:
        """Images (len(sigmas), H, W, C) along principal direction `index` around latent z
        (drawn in class `cls` for a conditional model)."""
        m = self.model(name)
        cls = m.check_class(cls)
        z = m.check_one_latent(z)
        d = self.directions(name)
        if not 0 <= int(index) < len(d.basis):
            raise UserError(f"Direction {index} does not exist; {name} has {len(d.basis)}.")
        coords = d.coordinates(z)
        zs = []
        for s in sigmas:
            c = coords.clone()
            c[int(index)] = s
            zs.append(d.apply(z, c))
        return m.decode(torch.stack(zs), cls)

    def strip_around(self, name: str, z, index: int, cls=None) -> tuple[np.ndarray, list[float], int]:
        """The ±3σ strip with the current picture put in its place: (images, positions in σ, which one is current)."""
        d = self.directions(name)
        z = self.model(name).check_latent(z)[0]
        if not 0 <= int(index) < len(d.basis):
            raise UserError(f"Direction {index} does not exist; {name} has {len(d.basis)}.")
        here = float(d.coordinates(z)[int(index)])
        sigmas = sorted([s for s in SIGMA_STRIP if abs(s - here) > 0.25] + [here])
        return self.strip(name, z, index, sigmas, cls), sigmas, sigmas.index(here)

    def manifold(self, name: str, z=None, n: int = 15, extent: float = 3.0) -> tuple[np.ndarray, tuple[int, int] | None]:
        """For a 2-d latent: decoded grid (n*H, n*W, C) over [-extent, extent]^2, plus the grid cell of z."""
        m = self.model(name)
        if m.latent_dim != 2:
            raise UserError("The decoded-manifold view needs a model with a 2-d latent space.")
        key = (name, m.digest, n, extent)
        grid = self._manifolds.get(key)
        if grid is None:                                                         # decoded once per model
            ticks = np.linspace(-extent, extent, n, dtype=np.float32)
            gy, gx = np.meshgrid(ticks[::-1], ticks, indexing="ij")             # row 0 = top = high y
            imgs = m.decode(np.stack([gx.ravel(), gy.ravel()], 1))               # (n*n, H, W, C)
            h, w, c = imgs.shape[1:]
            grid = imgs.reshape(n, n, h, w, c).transpose(0, 2, 1, 3, 4).reshape(n * h, n * w, c)
            self._manifolds[key] = grid
        cell = None
        if z is not None:
            zz = m.check_one_latent(z).numpy()
            col = int(np.clip(np.round((zz[0] + extent) / (2 * extent) * (n - 1)), 0, n - 1))
            row = int(np.clip(np.round((extent - zz[1]) / (2 * extent) * (n - 1)), 0, n - 1))
            cell = (row, col)
        return grid, cell

    @staticmethod
    def manifold_latent(fx: float, fy: float, n: int = 15, extent: float = 3.0) -> list[float]:
        """The latent (2,) under a click on the manifold sheet at fractions (fx, fy) of its width and height
        (tile i's centre is the grid value ticks[i]; the top row is the highest z2)."""
        fx, fy = check_number("Click x", fx, 0, 1), check_number("Click y", fy, 0, 1)
        to_value = lambda f: float(np.clip((f * n - 0.5) / (n - 1), 0, 1)) * 2 * extent - extent   # noqa: E731
        return [round(to_value(fx), 4), round(-to_value(fy), 4)]

    # ---------------------------------------------------------------- your own picture
    def encode_picture(self, name: str, picture, progress=None, stop=None, refine: bool = True):
        """A person's picture (file bytes, an array, a drawing) placed in the model's latent space:
        a VAE encodes it; a GAN's encoder guesses and refinement polishes (explore/inversion.py)."""
        from explorer.explore.inversion import PictureEncoder
        m = self.model(name)
        if m.num_classes:
            raise UserError(f"{name} is class-conditional: putting your own picture in works with the unconditional "
                            "models (choose a DCGAN or a VAE without a class picker).")
        dataset = DatasetInfo.from_meta(m.meta).name
        if self.classifier(dataset) is None:
            raise UserError(f"{name} was trained on {dataset or 'unknown data'}, for which there is no classifier "
                            "to prepare and score a picture.")
        with self._lock:
            enc = self._picture_encoders.setdefault(dataset, PictureEncoder(lambda: self.classifier(dataset)))
        with self.gate.interactive():
            return enc.encode(m, picture, progress=progress, stop=stop, **({} if refine else {"steps": 0}))

    def test_picture(self, name: str, index) -> np.ndarray:
        """Test picture number `index` of the model's dataset, uint8 (H, W, C)."""
        test = self.test_set(name)
        i = check_int("Test picture number", index, 0, len(test) - 1)
        return test.images[i].permute(1, 2, 0).numpy()

    # ---------------------------------------------------------------- interpolate
    def interpolate(self, name: str, z_a, z_b, frames: int, cls=None) -> dict:
        """Two latents, straight and spherical paths between them, decoded (in class `cls` for a
        conditional model: the class stays, the style changes)."""
        m = self.model(name)
        frames = check_int("Frames", frames, 2, MAX_FRAMES)
        a, b = m.check_one_latent(z_a, "The start latent"), m.check_one_latent(z_b, "The end latent")
        cls = m.check_class(cls)
        t = fractions(frames)
        paths = {"linear": lerp(a, b, t), "spherical": slerp(a, b, t)}
        both = m.decode(torch.cat(list(paths.values())), cls)                  # one batched decode
        return {"t": t.numpy(), "linear": both[:frames], "spherical": both[frames:],
                "linear_path": paths["linear"].numpy(), "spherical_path": paths["spherical"].numpy(),
                "linear_norm": paths["linear"].norm(dim=1).numpy(), "spherical_norm": paths["spherical"].norm(dim=1).numpy(),
                "typical_norm": float(np.sqrt(m.latent_dim))}

    def class_interpolate(self, name: str, z, class_a, class_b, frames: int) -> dict:
        """A conditional model: one latent z, the class blended from class_a to class_b along a straight
        and a great-circle path between the two class vectors; the same keys as `interpolate` (the
        lengths are those of the class vector; `typical_norm` is the mean length of the model's ones)."""
        from explorer.explore.conditional import class_paths, class_vectors, decode_blends
        m = self.model(name)
        z = m.check_one_latent(z, "The latent")
        paths = class_paths(m, class_a, class_b, frames)
        both = decode_blends(m, z, torch.cat(list(paths.values())))
        frames = len(paths["linear"])
        return {"t": fractions(frames).numpy(), "linear": both[:frames], "spherical": both[frames:],
                "linear_norm": paths["linear"].norm(dim=1).numpy(), "spherical_norm": paths["spherical"].norm(dim=1).numpy(),
                "typical_norm": float(class_vectors(m).norm(dim=1).mean()),
                "ends": torch.stack([paths["linear"][0], paths["linear"][-1]])}

    # ---------------------------------------------------------------- map
    def place_on_map(self, name: str, z, cls=None) -> np.ndarray | None:
        """Map coordinates (M, 2) of latents (M, D) (drawn in class `cls` for a conditional model),
        or None while the map is not ready."""
        from explorer.maps.features import map_keys
        m = self.model(name)
        lm = self.maps.get(m)
        if lm is None:
            return None
        clf = self.classifier(DatasetInfo.from_meta(m.meta).name) if lm.key_space == "classifier-features" else None
        return lm.place(map_keys(m, m.check_latent(z), clf, lm.key_space, m.check_class(cls)))

    def map_item(self, name: str, index) -> dict:
        """A clicked map point: its latent, its label and its picture (test image or decoding)."""
        m = self.model(name)
        lm = self.maps.get(m)
        if lm is None:
            raise UserError(f"The map for {name} is still being computed ({self.maps.status(name)}).")
        try:
            i = check_int("A map point index", index, -2**63, 2**63)
        except UserError:
            raise UserError(f"A map point index must be a whole number between 0 and {len(lm.latents) - 1},"
                            f" got {str(index)[:40]!r}.") from None
        if not 0 <= i < len(lm.latents):
            raise UserError(f"Map point {i} does not exist; the map has {len(lm.latents)} points.")
        z = lm.latents[i]
        label = lm.class_names[lm.labels[i]] if 0 <= lm.labels[i] < len(lm.class_names) else ""
        cls = None if lm.classes is None else int(lm.classes[i])
        decoded = m.decode(z[None], cls)[0]
        original = None
        if lm.source == "test-images":
            test = self.test_set(name)
            original = test.images[i].permute(1, 2, 0).numpy()
        return {"index": i, "latent": z, "label": label, "decoded": decoded, "original": original, "class": cls}
