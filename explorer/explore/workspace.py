"""Everything the UI asks for, as plain functions of plain arguments (no Gradio here).

A Workspace owns the shared, read-only parts: the model registry, each model's directions (cached
on disk) and maps (cached on disk, computed in the background). Each request brings its own
state (model name, seed, slider values, latent), so sessions never share mutable state.

The UI and the API reach models, maps and uploads only through the verbs here. Values are checked
once where they enter (`recipe()` / `parse_recipe`, `LoadedModel.check_latent` and `check_class`
at the edges); the methods below take typed, checked values and trust them.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np
import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, model_card
from explorer.core.data import DataNotFound, to_unit
from explorer.core.latent import fractions, lerp, slerp
from explorer.core.priority import InteractiveGate
from explorer.core.validation import UserError, check_int
from explorer.eval.features import classifier_path_for, load_classifier
from explorer.explore import manifold as sheet
from explorer.explore.class_routes import classifier_judge
from explorer.explore.direction_check import SecondOpinions
from explorer.explore.direction_store import DIRECTION_SAMPLES, DirectionStore
from explorer.explore.directions import Directions
from explorer.explore.recipe import Recipe, parse_recipe, recipe_values
from explorer.explore.registry import LoadedModel, ModelRegistry
from explorer.explore.slider_names import SliderNames
from explorer.explore.uploads import Registered, Uploads
from explorer.explore.w_directions import in_layers
from explorer.maps.cache import CACHE_DIR
from explorer.maps.layout import LatentMap, MapParams
from explorer.maps.store import MapStore

log = logging.getLogger(__name__)
SIGMA_STRIP = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
MAX_FRAMES = 64
__all__ = ["DIRECTION_SAMPLES", "MAX_FRAMES", "SIGMA_STRIP", "Workspace"]


class Workspace:
    def __init__(self, folder: Path = CHECKPOINT_DIR, device="cpu", cache_dir: Path = CACHE_DIR,
                 map_params: MapParams = MapParams(), direction_samples: int = DIRECTION_SAMPLES):
        """`map_params` and `direction_samples` size the work done per model (tests ask for small maps
        and few samples; the app uses the defaults, which the shipped caches were computed with)."""
        self.registry = ModelRegistry(folder, device)
        self.uploads = Uploads(self.registry, on_unload=self._forget)
        self.cache_dir = Path(cache_dir)
        self.direction_samples = direction_samples
        judged = lambda dataset: self.classifier(dataset)     # noqa: E731 - looked up at each call
        self._directions = DirectionStore(self.cache_dir, judged, direction_samples)
        self._second = SecondOpinions(self.cache_dir, judged, self.registry.device)
        self._slider_names = SliderNames()
        self._manifolds: dict[tuple, np.ndarray] = {}
        self._test_sets: dict = {}
        self._classifiers: dict[str, object] = {}
        self._picture_encoders: dict[str, object] = {}
        self._lock = threading.Lock()
        self.map_params = map_params
        self._maps = MapStore(self.classifier_path, params=map_params, cache_dir=self.cache_dir)
        self.gate = InteractiveGate()     # slider drags go before the training thread's next step

    # ---------------------------------------------------------------- models
    @property
    def device(self) -> torch.device:
        return self.registry.device

    @property
    def folder(self) -> Path:
        return self.registry.folder

    def model_names(self) -> list[str]:
        return sorted(self.registry.available())

    def listing(self) -> dict[str, dict]:
        """name -> metadata of every model on offer (the picker shows their titles)."""
        return dict(sorted(self.registry.available().items()))

    def model(self, name: str) -> LoadedModel:
        self.uploads.touch(name)          # an upload in use is kept; an unloaded one is said to be so
        return self.registry.get(name)

    def add_file(self, path: Path, name: str) -> LoadedModel:
        """List a checkpoint file that is not in the models folder (`python app.py --checkpoint FILE`)."""
        return self.registry.add_file(Path(path), name)

    def register_upload(self, src: Path, shown: str, visitor: str = "") -> Registered:
        """Check and list an uploaded checkpoint for `visitor` (all or nothing, and bounded: explore/uploads.py)."""
        return self.uploads.register(Path(src), shown, visitor)

    def _forget(self, name: str) -> None:
        """Drop what is kept for an unloaded upload: its directions, slider names, decoded sheets and map."""
        self._directions.forget(name)
        self._slider_names.forget(name)
        with self._lock:
            for key in [k for k in self._manifolds if k[0] == name]:
                del self._manifolds[key]
        self._maps.forget(name)

    def card(self, name: str) -> str:
        m = self.model(name)
        return model_card(m.meta, m.meta.get("title", name))

    def test_set(self, name: str):
        """The test split of the model's dataset, read once (hover pictures and endpoints ask often)."""
        from explorer.core.data import load_dataset
        ds_name = self.model(name).family.dataset
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
    def directions_path(self, name: str) -> Path:
        """Where the model's directions are cached (explore/direction_store.py)."""
        return self._directions.path(self.model(name))

    def directions(self, name: str, layers: tuple[str, ...] = ()) -> Directions:
        """The model's principal and named directions, computed once per model and cached on disk; for a
        style-based model with `layers`, slider i limited to the layers layers[i] names (w_directions.py)."""
        d = self._directions.get(self.model(name))
        return in_layers(d, list(layers), self.model(name).family.layer_groups()) if layers else d

    def directions_ready(self, name: str) -> bool:
        """Whether the model's directions are at hand, in memory or in their cache (no computing to wait for)."""
        return name in self._directions or self._directions.path(self.model(name)).is_file()

    def prepare(self, name: str) -> threading.Thread:
        """Find a model's directions and slider names in the background (a model just saved: by the time it is
        picked they may be ready); a failure is logged, and met again when the model is explored."""
        def work():
            try:
                self.slider_names(name, 10)          # its directions first, then the names read off them
            except Exception:  # noqa: BLE001 - background work: logged, and raised again where it is asked for
                log.exception("preparing %s failed", name)
        thread = threading.Thread(target=work, name=f"prepare-{name}"[:60], daemon=True)
        thread.start()
        return thread

    def slider_names(self, name: str, count: int) -> list[str]:
        """The model's first `count` sliders named by what they do, where its classifier can tell
        (explore/slider_names.py; "" elsewhere), computed once per model."""
        m = self.model(name)
        clf = None if m.num_classes else self.classifier(m.family.dataset)
        return self._slider_names.get(m, self.directions(name), clf, count)

    def second_opinion(self, name: str, wait: bool = True) -> dict[str, float] | None:
        """{named direction: share of test seeds a second classifier, trained apart and never used to steer,
        sees as the named class at the route's end} (explore/direction_check.py); None where no second
        judge of the model's dataset is installed. Computed once per model and judge, then cached; with
        `wait=False` a figure not yet known is computed in the background and None is answered now."""
        return self._second.get(self.model(name), self.directions(name), wait)

    # ---------------------------------------------------------------- explore
    def recipe(self, raw) -> Recipe:
        """Raw recipe values (a dict from a tab, the API or a link; or a recipe's text) -> a checked Recipe."""
        if not isinstance(raw, dict):
            raw = recipe_values(raw)
        name = raw.get("model")
        m = self.model(name)
        # a recipe of the seed alone needs no directions: a model just saved draws its first picture at once
        needs = any(raw.get(key) for key in ("sliders", "direction", "names", "layers"))
        return parse_recipe(raw, m, self.directions(name) if needs else None)

    def start_latent(self, r: Recipe) -> torch.Tensor:
        """The starting point (the seed's noise, or the recipe's base latent) scaled towards or away
        from the centre by the temperature: the sliders read their positions off this point."""
        m = self.model(r.model)
        start = torch.tensor(r.base, dtype=torch.float32) if r.base else m.family.seed_latents(1, r.seed)[0]
        return m.family.tempered(start, r.temperature)

    def latent(self, r: Recipe) -> torch.Tensor:
        """The latent (D,) a checked recipe draws: its start, moved by the sliders and the named direction."""
        m = self.model(r.model)
        z = self.start_latent(r)
        if r.sliders:
            d = self.directions(r.model, r.layers)
            full = d.coordinates(z)
            full[:len(r.sliders)] = torch.tensor(r.sliders)
            z = d.apply(z, full)
        if r.direction:
            # a named direction is a route judged by the classifier; its end is remembered per latent
            judge = classifier_judge(m.family, self.classifier(m.family.dataset))
            z = self.directions(r.model).move(z, r.direction, r.amount, judge)
        return z

    def render(self, r: Recipe) -> tuple[np.ndarray, torch.Tensor]:
        """(image (H, W, C) uint8, latent (D,)) for a checked recipe."""
        with self.gate.interactive():
            z = self.latent(r)
            return self.model(r.model).decode(z[None], r.cls)[0], z

    def class_row(self, name: str, z: torch.Tensor) -> np.ndarray:
        """A conditional model's latent z (D,) drawn in every class: uint8 (K, H, W, C), class 0 first."""
        from explorer.explore.conditional import class_row
        with self.gate.interactive():
            return class_row(self.model(name), z)

    def slider_values(self, r: Recipe) -> list[float]:
        """Where the recipe's starting latent (the seed's, or its base) sits along each principal direction."""
        return self.directions(r.model, r.layers).coordinates(self.start_latent(r)).tolist()

    def dataset_latent(self, name: str, index) -> torch.Tensor:
        """A test picture's latent: the model's own encoding of it (a VAE's posterior mean). A model without
        an encoder of its own (a GAN) cannot place a real picture this way: it is refused rather than
        answered with some other picture's latent."""
        m = self.model(name)
        if m.family.inversion != "encode":
            raise UserError(f"{name} is a {m.family.words}: it has no encoder, so it cannot place a test picture. "
                            "Pick a dot on the Map instead (its pictures are the model's own).")
        test = self.test_set(name)
        i = check_int("Test picture number", index, 0, len(test) - 1)
        y = test.labels[i:i + 1].to(m.device) if m.num_classes else None     # a cVAE encodes with the true class
        return m.family.encode(to_unit(test.images[i:i + 1]).to(m.device), y)[0][0].cpu()

    def strip(self, name: str, z: torch.Tensor, index: int, sigmas=SIGMA_STRIP, cls: int | None = None,
              layers: tuple[str, ...] = ()) -> np.ndarray:
        """Images (len(sigmas), H, W, C) along principal direction `index` around latent z (D,)
        (drawn in class `cls` for a conditional model; on the `layers` of a style-based one)."""
        d = self.directions(name, layers)
        coords = d.coordinates(z)
        zs = []
        for s in sigmas:
            c = coords.clone()
            c[index] = s
            zs.append(d.apply(z, c))
        return self.model(name).decode(torch.stack(zs), cls)

    def strip_around(self, name: str, z: torch.Tensor, index: int, cls: int | None = None, layers: tuple[str, ...] = ()):
        """The ±3σ strip with the current picture put in its place: (images, positions in σ, which one is current)."""
        d = self.directions(name, layers)
        if not 0 <= index < len(d.basis):
            raise UserError(f"Direction {index + 1} does not exist; {name} has {len(d.basis)}.")
        here = float(d.coordinates(z)[index])
        sigmas = sorted([s for s in SIGMA_STRIP if abs(s - here) > 0.25] + [here])
        return self.strip(name, z, index, sigmas, cls, layers), sigmas, sigmas.index(here)

    def manifold(self, name: str, n: int = sheet.SHEET_TILES, extent: float = sheet.SHEET_EXTENT) -> np.ndarray:
        """For a 2-d latent: the decoded grid (n*H, n*W, C) over [-extent, extent]^2, decoded once per model."""
        m = self.model(name)
        key = (name, m.digest, n, extent)
        if key not in self._manifolds:
            self._manifolds[key] = sheet.manifold_sheet(m, n, extent)
        return self._manifolds[key]

    manifold_cell = staticmethod(sheet.manifold_cell)
    manifold_latent = staticmethod(sheet.manifold_latent)

    # ---------------------------------------------------------------- your own picture
    def encode_picture(self, name: str, picture, progress=None, stop=None, refine: bool = True):
        """A person's picture (file bytes, an array, a drawing) placed in the model's latent space:
        a VAE encodes it; a GAN's encoder guesses and refinement polishes (explore/inversion.py). A
        class-conditional model draws it in the class the dataset's classifier reads in it."""
        from explorer.explore.inversion import PictureEncoder
        m = self.model(name)
        dataset = m.family.dataset
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
    def interpolate(self, name: str, a: torch.Tensor, b: torch.Tensor, frames: int, cls: int | None = None) -> dict:
        """Two latents (D,), straight and spherical paths between them, decoded (in class `cls` for a
        conditional model: the class stays, the style changes)."""
        m = self.model(name)
        t = fractions(frames)
        paths = {"linear": lerp(a, b, t), "spherical": slerp(a, b, t)}
        both = m.decode(torch.cat(list(paths.values())), cls)                  # one batched decode
        return {"t": t.numpy(), "linear": both[:frames], "spherical": both[frames:],
                "linear_path": paths["linear"].numpy(), "spherical_path": paths["spherical"].numpy(),
                "linear_norm": paths["linear"].norm(dim=1).numpy(), "spherical_norm": paths["spherical"].norm(dim=1).numpy(),
                "typical_norm": float(np.sqrt(m.latent_dim))}

    def class_interpolate(self, name: str, z: torch.Tensor, class_a: int, class_b: int, frames: int) -> dict:
        """A conditional model: one latent z (D,), the class blended from class_a to class_b along a straight
        and a great-circle path between the two class vectors; the same keys as `interpolate` (the
        lengths are those of the class vector; `typical_norm` is the mean length of the model's ones)."""
        from explorer.explore.conditional import (
            class_paths,
            class_vectors,
            decode_blends,
        )
        m = self.model(name)
        paths = class_paths(m, class_a, class_b, frames)
        both = decode_blends(m, z, torch.cat(list(paths.values())))
        return {"t": fractions(frames).numpy(), "linear": both[:frames], "spherical": both[frames:],
                "linear_norm": paths["linear"].norm(dim=1).numpy(), "spherical_norm": paths["spherical"].norm(dim=1).numpy(),
                "typical_norm": float(class_vectors(m).norm(dim=1).mean()),
                "ends": torch.stack([paths["linear"][0], paths["linear"][-1]])}

    # ---------------------------------------------------------------- map
    def map(self, name: str, start: bool = True) -> LatentMap | None:
        """The model's map, or None while it is being computed (`start`: begin computing it if needed)."""
        return self._maps.get(self.model(name), start)

    def map_path(self, name: str) -> Path:
        """Where the model's map is cached (content digest and map parameters in the name)."""
        return self._maps.path(self.model(name))

    def map_status(self, name: str) -> str:
        return self._maps.status(name)

    def wait_for_map(self, name: str, timeout: float | None = None) -> LatentMap | None:
        self._maps.get(self.model(name))
        self._maps.wait(name, timeout)
        return self._maps.get(self.model(name), start=False)

    def warm_up_maps(self) -> None:
        """Start the map worker process now and compile UMAP in it (in the background)."""
        self._maps.warm_up()

    def close(self) -> None:
        """End the map worker process for good (at shutdown: maps not finished fail, none starts again)."""
        self._maps.close()

    def place_on_map(self, name: str, z: torch.Tensor, cls: int | None = None) -> np.ndarray | None:
        """Map coordinates (M, 2) of latents (M, D) (drawn in class `cls` for a conditional model),
        or None while the map is not ready."""
        from explorer.maps.features import map_keys
        m = self.model(name)
        lm = self._maps.get(m, start=False)
        if lm is None:
            return None
        clf = self.classifier(m.family.dataset) if lm.key_space == "classifier-features" else None
        return lm.place(map_keys(m, torch.as_tensor(z, dtype=torch.float32), clf, lm.key_space, cls))

    def map_item(self, name: str, index) -> dict:
        """A clicked map point: its latent, its label and its picture (test image or decoding)."""
        m = self.model(name)
        lm = self._maps.get(m)
        if lm is None:
            raise UserError(f"The map for {name} is still being computed ({self._maps.status(name)}).")
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
            try:
                original = self.test_set(name).images[i].permute(1, 2, 0).numpy()
            except DataNotFound:     # a shipped map whose pictures were not prepared here: the decoding alone
                original = None
        return {"index": i, "latent": z, "label": label, "decoded": decoded, "original": original, "class": cls}

