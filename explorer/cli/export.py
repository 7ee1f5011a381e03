"""`python -m explorer.export NAME --onnx OUT.onnx` and `--float16 OUT.safetensors`: a model elsewhere, or for shipping.

--onnx writes the decoder as OUT.onnx and its encoder, where it has one (a VAE's own; a GAN's learned
`NAME-encoder.safetensors`), as OUT-encoder.onnx, with the model card's facts in their metadata
(explorer/cli/onnx_export.py), then opens the decoder as the app would (ONNX Runtime) and says how far its
pictures are from PyTorch's.

--float16 stores the weights in half precision wherever that changes no checked picture by more than
one grey level (explorer/core/float16.py says how the tensors kept in float32 are chosen). The checked
pictures: a decoder's samples at temperature 1 and 2 (every class in turn for a conditional model) and,
for a VAE, its reconstructions of test pictures when the dataset is here; an encoder's pictures as its
GAN draws them back, G(E(x)), for the GAN's own samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from explorer.cli.args import whole
from explorer.core.checkpoints import CHECKPOINT_DIR, Checkpoint, check_writable, load_checkpoint
from explorer.core.data import DataNotFound, load_dataset, to_uint8, to_unit
from explorer.core.families import family_of
from explorer.core.float16 import choose_float16, write_float16
from explorer.core.latent import sample_z
from explorer.core.loaded_model import LoadedModel
from explorer.core.metadata import DatasetInfo
from explorer.core.validation import UserError

TEMPERATURES = (1.0, 2.0)


def checkpoint_path(name: str, folder: Path = CHECKPOINT_DIR) -> Path:
    """A file path as given, or a model's name in the models folder."""
    path = Path(name)
    if path.suffix == ".safetensors" or path.exists():
        return path
    return Path(folder) / f"{name}.safetensors"


def decoder_pictures(samples: int, data_dir=None):
    """ck -> uint8 pictures a decoder draws: `samples` seeds at each temperature (+ a VAE's reconstructions)."""
    def pictures(ck: Checkpoint) -> np.ndarray:
        m = LoadedModel.of("checked", ck)
        z = sample_z(samples, m.latent_dim, 0)
        cls = np.arange(samples) % m.num_classes if m.num_classes else None
        out = [m.decode(z * t, cls) for t in TEMPERATURES]
        if m.family.inversion == "encode":          # its own encoder: its reconstructions must not change either
            try:
                test = load_dataset(DatasetInfo.from_meta(ck.meta).name, "test", data_dir)
            except DataNotFound:
                test = None
            if test is not None:
                n = min(samples, len(test))
                y = test.labels[:n] if m.num_classes else None
                mean = m.family.encode(to_unit(test.images[:n]), y)[0]
                out.append(m.decode(mean, None if y is None else y.numpy()))
        return np.concatenate(out)
    return pictures


def encoder_pictures(ck: Checkpoint, samples: int):
    """ck (an encoder) -> uint8 pictures its GAN draws from the encoder's guesses for the GAN's own samples."""
    gan_file = ck.meta.get("for", {}).get("file")
    if not gan_file or ck.path is None:
        raise UserError(f"{ck.path.name if ck.path else 'This encoder'} does not say which GAN it belongs to.")
    gan = LoadedModel.of("gan", load_checkpoint(ck.path.with_name(Path(gan_file).name)))
    z = sample_z(samples, gan.latent_dim, 0)
    cls = np.arange(samples) % gan.num_classes if gan.num_classes else None
    x = torch.from_numpy(gan.decode(z, cls)).permute(0, 3, 1, 2).float() / 255

    def pictures(enc: Checkpoint) -> np.ndarray:
        with torch.inference_mode():
            guess = enc.modules["encoder"](x)
        return gan.decode(guess, cls)
    return pictures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.export", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint", help="a model's name in the models folder, or a .safetensors file")
    p.add_argument("--onnx", metavar="OUT", help="write the decoder as OUT.onnx (and the encoder as OUT-encoder.onnx)")
    p.add_argument("--float16", metavar="OUT", help="write a copy with float16 weights where no picture changes by more than one level")
    p.add_argument("--without-optimizer", action="store_true",
                   help="with --float16: leave out what only resuming reads (optimiser state, random streams, "
                        "a GAN's live generator); without it such a file is refused")
    p.add_argument("--title", help="the name the model picker and the model card show")
    p.add_argument("--description", help="one or two sentences for the model card")
    p.add_argument("--samples", type=whole("--samples", 10, 100_000), default=1000,
                   help="pictures checked at each temperature (default 1000)")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    try:
        return run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args) -> int:
    if not args.float16 and not args.onnx:
        raise UserError("Say what to export: --onnx OUT.onnx or --float16 OUT.safetensors.")
    src = checkpoint_path(args.checkpoint)
    ck = load_checkpoint(src, "cpu")
    if args.onnx:
        to_onnx(ck, Path(args.onnx))
    if args.float16:
        to_float16(args, src, ck)
    return 0


def to_onnx(ck: Checkpoint, out: Path) -> None:
    from explorer.cli.onnx_export import export_decoder, export_encoder
    from explorer.core.families.onnx import OnnxFamily
    if out.suffix.lower() != ".onnx":
        raise UserError(f"--onnx {out} must name a .onnx file.")
    family = family_of(ck)
    check_writable(out, "--onnx")
    export_decoder(family, ck.meta, out)
    written = [out]
    enc_out = out.with_name(f"{out.stem}-encoder.onnx")
    if family.inversion == "encode":
        written.append(export_encoder(lambda x, y=None: family.encode(x, y)[0], family.modules.values(), family,
                                      ck.meta, enc_out))
    elif ck.path is not None and ck.path.with_name(f"{ck.path.stem}-encoder.safetensors").is_file():
        encoder = load_checkpoint(ck.path.with_name(f"{ck.path.stem}-encoder.safetensors"), "cpu").modules["encoder"]
        written.append(export_encoder(lambda x, y=None: encoder(x), [encoder], family, ck.meta, enc_out))
    opened = OnnxFamily(out)
    module, size = family.onnx_decoder()
    z = sample_z(64, size, 0)
    y = torch.arange(64) % family.num_classes if family.num_classes else None
    with torch.no_grad():
        ours, theirs = module(z, y), opened.decode(z, y)
    levels = int((to_uint8(ours).int() - to_uint8(theirs).int()).abs().max())
    for path in written:
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
    print(f"ONNX Runtime draws the same 64 pictures as PyTorch within {levels} grey level(s)")


def to_float16(args, src: Path, ck: Checkpoint) -> None:
    check_writable(args.float16, "--float16")
    with torch.no_grad():
        pictures = encoder_pictures(ck, args.samples) if ck.kind == "encoder" else decoder_pictures(args.samples, args.data_dir)
        keep, change = choose_float16(ck, pictures)
        checked = len(pictures(ck))
    shown = {k: v for k, v in (("title", args.title), ("description", args.description)) if v}
    before = src.stat().st_size                   # (the copy may replace the file itself)
    out = write_float16(src, args.float16, keep, {"checked_pictures": checked, "max_level_change": change,
                                                   "temperatures": list(TEMPERATURES)}, shown,
                        without_resuming=args.without_optimizer)
    after = out.stat().st_size
    print(f"{out}: {after / 1e6:.2f} MB ({before / 1e6:.2f} MB in float32); {len(keep)} tensors kept in float32; "
          f"{checked} pictures checked, largest change {change} grey level(s)")


if __name__ == "__main__":
    sys.exit(main())
