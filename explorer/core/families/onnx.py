"""The ONNX family: a decoder from anywhere (a course notebook's GAN, another framework's VAE decoder),
exported to ONNX and run by ONNX Runtime, opened in every tab.

What is read (explorer/core/families/onnx_check.py checks the file first, as hostile data):
  - the latent size from the graph's first input (batch, D); the class from a second input, an integer
    (batch,) or a one-hot (batch, K); the picture from its one output (batch, 1 or 3, side, side);
  - from the file's metadata (all optional, `python -m explorer.export --onnx` writes them): title,
    description, dataset (then its classifier names the sliders and lays out the map), class_names,
    num_classes, output_range ("-1,1" for tanh, "0,1");
  - what the metadata does not say is found by probing, once, at load: the output range (any value below
    zero: a tanh decoder in [-1, 1]; else [0, 1]; beyond either: refused) and, for an integer class
    input, how many classes it draws (the largest class number it accepts).
It cannot be differentiated, so a person's picture is placed by a bounded gradient-free search (from
the guess of an encoder beside it, `NAME-encoder.onnx`, where there is one), its sliders are GANSpace's
computed on what its pictures look like, and its map lays out samples. Every run has a time limit
(`DECODE_SECONDS`) and one CPU thread; a run past it is stopped and said so.
"""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from explorer.core.families.base import Family
from explorer.core.families.temperature import TemperatureScale
from explorer.core.families.onnx_check import MAX_TOTAL, OnnxRefused, decoder_io, read_onnx
from explorer.core.metadata import MAX_CLASSES, MAX_TEXT
from explorer.core.models.limits import IMAGE
from explorer.core.validation import UserError

ONNX_THREADS = 1          # ONNX Runtime's threads per session: the app's sliders and maps keep the other cores
DECODE_SECONDS = 5.0      # one run of the graph (a batch of pictures) is stopped after this long
BATCH_GFLOP = 2.0         # pictures run at once: as many as cost this much (a second or less on one core)
PROBE = 4                 # pictures drawn at load to read the output's shape and range
FEATURE_SIDE = 16         # what a picture "looks like" without a classifier: its 16 x 16 average


def _session(model_bytes: bytes):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = ONNX_THREADS
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.enable_cpu_mem_arena = False          # memory goes back after each run instead of staying in an arena
    opts.log_severity_level = 4                 # its errors reach the person as words (TimedSession), not as log noise
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


class TimedSession:
    """An ONNX Runtime session whose every run is stopped after `seconds` (RunOptions.terminate, set by a
    timer thread), its failures turned into plain words naming the file."""

    def __init__(self, model, name: str, seconds: float | None = None):
        self.session, self.name = _session(model.SerializeToString()), name
        self.seconds = DECODE_SECONDS if seconds is None else seconds

    def run(self, feeds: dict) -> np.ndarray:
        import onnxruntime as ort
        options = ort.RunOptions()
        options.log_severity_level = 4
        timer = threading.Timer(self.seconds, lambda: setattr(options, "terminate", True))
        timer.start()
        try:
            return self.session.run(None, feeds, options)[0]
        except Exception as exc:  # noqa: BLE001 - ONNX Runtime's errors become one sentence about the file
            if options.terminate:
                raise UserError(f"{self.name} took longer than {self.seconds:g} s to draw and was stopped.") from None
            raise UserError(f"{self.name} failed to run: {str(exc).splitlines()[0][:200]}") from None
        finally:
            timer.cancel()


def _text(props: dict, key: str) -> str:
    value = props.get(key, "")
    return value[:MAX_TEXT * 10] if isinstance(value, str) else ""


class OnnxFamily(Family):
    kind = "onnx"
    words = "decoder"
    adversarial = True
    inversion = "search"
    directions = "picture-pca"
    map_items = "samples"
    temperature = TemperatureScale(lowest=0.3)     # what it draws at the centre is not known: a GAN's lowest

    def __init__(self, path: Path, device=None):
        super().__init__({}, "cpu", Path(path))      # ONNX Runtime's CPU provider: the pictures come back on the CPU
        graph = read_onnx(self.path)
        self.io = decoder_io(graph, self.path.name)
        self.graph = graph.measure()
        self.runner = TimedSession(graph.model, self.path.name)
        props = {p.key: p.value for p in graph.model.metadata_props}
        self.latent_dim, self.one_hot = self.io.latent_dim, self.io.one_hot
        self.batch = self.io.fixed_batch or max(1, min(256, MAX_TOTAL // max(graph.elements, 1),
                                                         int(BATCH_GFLOP / max(graph.gflop, 1e-9))))
        self.num_classes = self._classes(props)
        self.value_range = self._probe(props)
        self.meta = self._meta(props)

    # ---------------------------------------------------------------- running the graph
    def _run(self, z: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """Raw outputs for latents (B, D), in the graph's own batches (a fixed batch is padded)."""
        out = []
        step = self.io.fixed_batch or self.batch
        for i in range(0, len(z), step):
            zb, yb = z[i:i + step], None if y is None else y[i:i + step]
            n = len(zb)
            if self.io.fixed_batch and n < step:                     # pad to the graph's batch
                zb = np.concatenate([zb, np.zeros((step - n, zb.shape[1]), np.float32)])
                yb = None if yb is None else np.concatenate([yb, np.zeros(step - n, yb.dtype)])
            feeds = {self.io.latent: np.ascontiguousarray(zb, np.float32).reshape((len(zb),) + self.io.latent_shape)}
            if self.io.cls:
                feeds[self.io.cls] = (np.eye(self.one_hot, dtype=np.float32)[yb] if self.one_hot else yb.astype(np.int64))
            out.append(self.runner.run(feeds)[:n])
        return np.concatenate(out)

    def _classes(self, props: dict) -> int:
        if not self.io.cls:
            return 0
        if self.one_hot:
            return self.one_hot
        said = props.get("num_classes", "")
        if said.isdigit() and 1 <= int(said) <= MAX_CLASSES:
            return int(said)
        z = np.zeros((1, self.latent_dim), np.float32)

        def accepts(c: int) -> bool:
            try:
                self._run(z, np.array([c]))
                return True
            except UserError:
                return False
        if not accepts(0):
            raise OnnxRefused(f"{self.path.name} does not draw class 0; say how many classes it draws in its metadata "
                              "(num_classes).")
        if accepts(MAX_CLASSES):
            raise OnnxRefused(f"{self.path.name} accepts any class number, so how many classes it draws cannot be "
                              "found; say it in its metadata (num_classes).")
        lo, hi = 0, MAX_CLASSES                                      # lo accepted, hi refused
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if accepts(mid) else (lo, mid)
        return hi

    def _probe(self, props: dict) -> tuple[float, float]:
        """The output range, after checking the picture's shape and that it is finite."""
        z = torch.randn(PROBE, self.latent_dim, generator=torch.Generator().manual_seed(0)).numpy()
        y = np.arange(PROBE) % self.num_classes if self.num_classes else None
        out = self._run(z, y)
        name = self.path.name
        if out.ndim != 4 or out.shape[1] not in (1, 3) or out.shape[2] != out.shape[3] \
                or not IMAGE[0] <= out.shape[2] <= IMAGE[1]:
            raise OnnxRefused(f"{name} draws an output of shape {tuple(out.shape)}; a picture decoder's is (batch, 1 or 3, "
                              f"side, side), side {IMAGE[0]} to {IMAGE[1]}.")
        if not np.isfinite(out).all():
            raise OnnxRefused(f"{name} draws NaN or infinite values for ordinary latents.")
        self.channels, self.image_size = int(out.shape[1]), int(out.shape[2])
        said = props.get("output_range", "").replace(" ", "")
        if said in ("-1,1", "0,1"):
            self.range_source = "metadata"
            return (-1.0, 1.0) if said == "-1,1" else (0.0, 1.0)
        self.range_source = "probe"
        if out.min() < -1.05 or out.max() > 1.05:
            raise OnnxRefused(f"{name} draws values from {out.min():.3g} to {out.max():.3g}; a picture decoder's lie in "
                              "[-1, 1] (tanh) or [0, 1] (say which in its metadata, output_range).")
        return (-1.0, 1.0) if out.min() < -0.02 else (0.0, 1.0)

    def _meta(self, props: dict) -> dict:
        names = []
        try:
            parsed = json.loads(props.get("class_names", "[]"))
            names = [str(n)[:MAX_TEXT] for n in parsed[:MAX_CLASSES]] if isinstance(parsed, list) else []
        except json.JSONDecodeError:
            names = []
        if len(names) != self.num_classes:
            names = [f"class {i}" for i in range(self.num_classes)] if self.num_classes else names[:0]
        lo, hi = self.value_range
        facts = {k: _text(props, k) for k in ("command", "attribution", "family") if props.get(k)}
        return {"kind": self.kind, "title": _text(props, "title") or self.path.stem,
                "description": _text(props, "description") or "A decoder opened from an ONNX file.",
                "dataset": {"name": _text(props, "dataset")[:MAX_TEXT], "class_names": names,
                            **({"attribution": facts.pop("attribution")} if "attribution" in facts else {})},
                "config": {"latent_dim": self.latent_dim, "image_size": self.image_size, "channels": self.channels,
                           "num_classes": self.num_classes},
                "onnx": {"output_range": f"{lo:g} to {hi:g} (from its {self.range_source})", "opset": self.graph.opset,
                         "operators": self.graph.nodes, "producer": self.graph.model.producer_name[:MAX_TEXT],
                         "gflop_per_picture": round(self.graph.gflop, 3)},
                **({"command": facts["command"]} if "command" in facts else {})}

    # ---------------------------------------------------------------- the protocol
    def decode(self, z, y=None):
        out = self._run(z.detach().float().cpu().numpy(), None if y is None else y.cpu().numpy())
        if not np.isfinite(out).all():
            raise UserError(f"{self.path.name} drew NaN or infinite values for this latent.")
        lo, hi = self.value_range
        return torch.from_numpy((out - lo) / (hi - lo)).clamp_(0, 1)

    @torch.no_grad()
    def direction_features(self, z, y=None):
        pictures = self.decode(z, y)
        return F.adaptive_avg_pool2d(pictures, min(FEATURE_SIDE, self.image_size)).flatten(1)


class OnnxEncoder:
    """`NAME-encoder.onnx` beside an ONNX decoder: pictures (B, C, H, W) in [0, 1] [+ classes (B,)] -> latents
    (B, D) (a conditional VAE's encoder takes the class as its second input)."""

    def __init__(self, path: Path, decoder: OnnxFamily):
        path = Path(path)
        graph = read_onnx(path)
        g = graph.model.graph
        inputs = [v for v in g.input if v.name not in {t.name for t in g.initializer}]
        if not 1 <= len(inputs) <= 2 or len(g.output) != 1:
            raise OnnxRefused(f"{path.name} is not an encoder: one picture input (and a class) and one latent output are needed.")
        graph.measure()
        self.input, self.runner, self.name = inputs[0].name, TimedSession(graph.model, path.name), path.name
        self.cls = inputs[1].name if len(inputs) == 2 else ""
        self.decoder = decoder
        x = torch.zeros(1, decoder.channels, decoder.image_size, decoder.image_size)
        if tuple(self(x, torch.zeros(1, dtype=torch.long)).shape) != (1, decoder.latent_dim):
            raise OnnxRefused(f"{path.name} does not turn a {decoder.image_size}-px picture into "
                              f"{decoder.latent_dim} numbers, as {decoder.path.name} needs.")

    def __call__(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        feeds = {self.input: x.detach().float().cpu().numpy()}
        if self.cls:
            feeds[self.cls] = (torch.zeros(len(x), dtype=torch.long) if y is None else y).cpu().numpy().astype(np.int64)
        out = self.runner.run(feeds)
        if not np.isfinite(out).all():
            raise UserError(f"{self.name} gave NaN or infinite latents.")
        return torch.from_numpy(out)
