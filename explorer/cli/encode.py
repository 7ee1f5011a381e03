"""`python -m explorer.encode IMAGE --model NAME [--json] [--out PNG]`: your picture in a latent space.

Prepares the picture for the model (a grey model's the Fashion-MNIST way, explorer/core/picture.py;
a colour model's the emoji way, explorer/core/colour_picture.py), then encodes it (VAE:
posterior mean and samples) or inverts it (GAN: learned encoder + refinement), and prints the
latent, the scores in plain words and the timings; --out writes the reconstruction as a PNG.

`python -m explorer.encode --evaluate --model GAN [--vae VAE] [--write-card]` measures the GAN's
encoder on its dataset's test pictures (explorer/eval/inversion.py) and, with --write-card, stores
the figures in the encoder's metadata and its model card `<stem>-encoder.md`.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from explorer.core.checkpoints import CHECKPOINT_DIR, update_metadata
from explorer.core.device import choose_device
from explorer.core.families import family_class
from explorer.core.imaging import save_png
from explorer.core.metadata import DatasetInfo
from explorer.core.picture import read_picture_file
from explorer.core.validation import UserError
from explorer.eval.refine import REFINE_SECONDS, REFINE_STEPS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m explorer.encode", description=__doc__.split("\n")[0])
    p.add_argument("image", nargs="?", help="PNG, JPEG, WebP, GIF or BMP file")
    p.add_argument("--model", required=True, help="model name (file stem in --checkpoints-dir)")
    p.add_argument("--checkpoints-dir", default=str(CHECKPOINT_DIR))
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--out", help="write the reconstruction to this PNG")
    p.add_argument("--steps", type=int, default=REFINE_STEPS, help="GAN: refinement steps (0: the encoder's guess)")
    p.add_argument("--seconds", type=float, default=REFINE_SECONDS, help="GAN: refinement time budget")
    p.add_argument("--samples", type=int, default=4, help="VAE: samples from q(z|x)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--threads", type=int, help="CPU threads for PyTorch")
    e = p.add_argument_group("evaluation of a GAN's encoder")
    e.add_argument("--evaluate", action="store_true", help="figures on the GAN dataset's test pictures instead of one picture")
    e.add_argument("--vae", help="VAE whose reconstruction is reported beside (default: the unconditional VAE of "
                                  "the GAN's dataset with the most latent numbers; '' for none)")
    e.add_argument("--refine-subset", type=int, default=500, help="test pictures refined (a fixed random subset)")
    e.add_argument("--gan-samples", type=int, default=500, help="GAN samples G(z) inverted")
    e.add_argument("--data-dir")
    e.add_argument("--write-card", action="store_true", help="store the figures in the encoder file and its .md card")
    return p.parse_args(argv)


def _classifier(folder: Path, device, model):
    """The classifier of the model's own dataset (it scores whether a reconstruction keeps the class)."""
    from explorer.core.checkpoints import CHECKPOINT_DIR
    from explorer.eval.features import classifier_for
    return classifier_for(DatasetInfo.from_meta(model.meta).name, device, (folder, CHECKPOINT_DIR))


def encode_one(args, registry, classifier) -> int:
    from explorer.explore.inversion import PictureEncoder

    if not args.image:
        raise UserError("Give a picture file to encode (or --evaluate).")
    model = registry.get(args.model)
    data = read_picture_file(args.image)
    enc = PictureEncoder(classifier)
    if model.family.inversion == "refine":
        enc.encoder_for(model)                        # load once before timing
    result = enc.encode(model, data, steps=args.steps, seconds=args.seconds, samples=args.samples, seed=args.seed)
    if args.out:
        out = result.reconstruction
        save_png(out[..., 0] if out.shape[-1] == 1 else out, args.out)
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    s = result.scores
    print(f"{Path(args.image).name} in {model.name} ({model.family.words}, {model.latent_dim} numbers)")
    for note in result.notes:
        print(f"  note: {note}")
    if result.guess_scores is not None:
        g = result.guess_scores
        print(f"  encoder's guess: {g['verdict']} (pixel MSE {g['pixel_mse']:.4f}, seen as {g['label_reconstruction']})")
        print(f"  refined ({result.refine_steps} steps, stopped by {result.stopped_by}):")
    print(f"  reconstruction: {s['verdict']} (pixel MSE {s['pixel_mse']:.4f}, feature distance "
          f"{s['feature_distance']:.2f}); your picture is seen as {s['label']}, the reconstruction as "
          f"{s['label_reconstruction']}")
    print("  latent: " + " ".join(f"{v:.3f}" for v in result.latent))
    print("  seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in result.seconds.items()))
    if args.out:
        print(f"  wrote {args.out}")
    return 0


def _vae_beside(registry, dataset: str) -> str:
    """The unconditional VAE of `dataset` with the most latent numbers (its reconstruction is the
    yardstick beside the GAN's), or '' when there is none."""
    found = [(m.get("config", {}).get("latent_dim", 0), name) for name, m in registry.available().items()
             if family_class(m).inversion == "encode" and not m.get("config", {}).get("num_classes")
             and DatasetInfo.from_meta(m).name == dataset]
    return max(found)[1] if found else ""


def evaluate(args, registry, classifier) -> int:
    from explorer.cli.train_encoder import encoder_card
    from explorer.eval.inversion import EXPLAIN, evaluate_inversion
    from explorer.explore.inversion import PictureEncoder, encoder_path

    model = registry.get(args.model)
    if model.family.inversion != "refine":
        raise UserError(f"--evaluate measures a GAN's encoder; {model.name} is a {model.family.words}.")
    encoder = PictureEncoder(classifier).encoder_for(model)
    if isinstance(encoder, str):
        raise UserError(encoder[0].upper() + encoder[1:] + ".")
    dataset = DatasetInfo.from_meta(model.meta).name
    vae_name = _vae_beside(registry, dataset) if args.vae is None else args.vae
    vae = registry.get(vae_name).family if vae_name else None
    start = time.perf_counter()
    log = (lambda text: print(text, file=sys.stderr, flush=True))
    figures = evaluate_inversion(model.family, encoder, classifier, dataset=dataset, refine_subset=args.refine_subset,
                                 gan_samples=args.gan_samples, seed=args.seed, data_dir=args.data_dir, vae=vae, log=log)
    figures["threads"] = float(torch.get_num_threads())
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        print(f"{model.name}'s encoder, evaluated in {time.perf_counter() - start:.0f} s on {model.device}"
              f" ({torch.get_num_threads()} threads)")
        for key, val in figures.items():
            print(f"  {key:28s} {val:10.4f}  {EXPLAIN.get(key, '')}")
    if args.write_card:
        path = encoder_path(model)
        meta = update_metadata(path, {"evaluation": figures, "evaluation_device": str(model.device)})
        path.with_suffix(".md").write_text(encoder_card(meta, meta.get("title", path.stem)))
    return 0


def main(argv=None) -> int:
    from explorer.explore.registry import ModelRegistry

    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = choose_device(args.device)
        registry = ModelRegistry(Path(args.checkpoints_dir), device)
        classifier = _classifier(Path(args.checkpoints_dir), device, registry.get(args.model))
        return evaluate(args, registry, classifier) if args.evaluate else encode_one(args, registry, classifier)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
