"""`python -m explorer.train --model encoder --for GAN.safetensors`: train a GAN's encoder E(x) -> z.

The encoder is stored beside the GAN as `<stem>-encoder.safetensors` (or --out), with metadata
naming the GAN file and its content digest (an encoder fits only the generator it was trained
against), the exact command, and its figures (encoder alone on the test images: class kept,
pixel MSE, feature distance). Full figures with refinement: `python -m explorer.encode
--evaluate GAN --write-card`. The model card goes beside it as `<stem>-encoder.md`.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

from explorer.core.checkpoints import (
    CheckpointError,
    load_checkpoint,
    model_card,
    update_metadata,
)
from explorer.core.data import load_dataset
from explorer.core.device import choose_device
from explorer.core.models import build
from explorer.core.validation import UserError
from explorer.training import (
    EncoderTrainConfig,
    EncoderTrainer,
    ImageSampler,
    TrainingDiverged,
)


def encoder_path_for(gan_path: Path) -> Path:
    return gan_path.with_name(f"{gan_path.stem}-encoder.safetensors")


TARGETS = {"encoder_class_kept": ">= 0.85", "refined_class_kept": ">= 0.85", "gan_samples_refined_mse": "<= 0.01",
           "encoder_ms": "<= 5", "refined_ms": "<= 1500"}


def encoder_card(meta: dict, name: str) -> str:
    """The usual model card, which generator the encoder belongs to, and its figures explained."""
    from explorer.eval.inversion import EXPLAIN

    target = meta.get("for", {})
    lines = [model_card({k: v for k, v in meta.items() if k != "evaluation"}, name).rstrip(), "",
             f"The encoder belongs to `{target.get('file', '?')}` (content digest `{target.get('digest', '?')}`); "
             "for any other generator it is not used.", ""]
    ev = meta.get("evaluation")
    if ev:
        gan = Path(target.get("file", "GAN")).stem
        count = int(ev.get("test_pictures", 10_000))
        lines += [f"## Figures (`python -m explorer.encode --evaluate --model {gan}`)", "",
                  f"On the {count} {meta.get('dataset', {}).get('name', 'fashion-mnist')} test pictures"
                  + (f", measured on {meta['evaluation_device']}" if meta.get("evaluation_device") else "") + "."
                  + (" The class-conditional GAN draws each test picture in the class its classifier reads in "
                     "it, as the app does." if target.get("num_classes") else ""), "",
                  "| figure | value | target | what it is |", "| --- | --- | --- | --- |"]
        lines += [f"| {k} | {v:.4g} | {TARGETS.get(k, '')} | {EXPLAIN.get(k, '')} |" for k, v in ev.items()]
    return "\n".join(lines) + "\n"


def main_encoder(args: argparse.Namespace, command: str) -> int:
    from explorer.cli.samples import write_samples
    from explorer.core.checkpoints import CHECKPOINT_DIR
    from explorer.core.families import family_class, family_of
    from explorer.core.metadata import DatasetInfo
    from explorer.eval.features import classifier_for
    from explorer.eval.inversion import EXPLAIN, evaluate_inversion
    from explorer.explore.registry import file_digest

    if not args.gan_for:
        raise UserError("--model encoder needs --for GAN.safetensors: the generator to invert.")
    gan_path = Path(args.gan_for)
    device = choose_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        gan = load_checkpoint(gan_path, device)
    except CheckpointError as exc:
        raise UserError(f"--for: {exc}") from None
    family = family_class(gan.meta)
    if family is None or not family.trains_encoder:
        words = family.words if family else gan.kind
        raise UserError(f"--for {gan_path.name} holds a {words}; an encoder is trained for a GAN drawn from noise "
                         "(a VAE has its own encoder).")
    gan_family = family_of(gan)
    generator = gan_family.net                        # G(z[, y]) -> [-1, 1]: what a family that trains_encoder has
    gan_dataset = DatasetInfo.from_meta(gan.meta).name
    classifier = classifier_for(gan_dataset, device, (gan_path.parent, CHECKPOINT_DIR))
    ds = load_dataset(args.dataset or gan_dataset, args.split, args.data_dir)
    g = generator.cfg
    if tuple(ds.image_shape) != (g.channels, g.image_size, g.image_size):
        raise UserError(f"{ds.name}'s pictures are {'x'.join(map(str, ds.image_shape))} (channels x height x width) "
                         f"but {gan_path.name} draws {g.channels}x{g.image_size}x{g.image_size}: train the encoder "
                         "on the GAN's own dataset.")
    sampler = ImageSampler(ds.images, device, (0.0, 1.0), ds.labels)
    steps_per_epoch = max(1, math.ceil(len(ds) / args.batch_size))
    total = args.steps if args.steps is not None else int(round(args.epochs * steps_per_epoch))
    cfg = EncoderTrainConfig(batch_size=args.batch_size, lr=args.lr or 1e-3, total_steps=total, seed=args.seed)
    model_cfg = {"latent_dim": generator.cfg.latent_dim, "image_size": generator.cfg.image_size,
                 "channels": generator.cfg.channels}
    if args.width:
        model_cfg["width"] = args.width
    with torch.random.fork_rng(devices=[]):      # weights from the run's seed, globals untouched
        torch.manual_seed(args.seed)
        modules = build("encoder", model_cfg)
    trainer = EncoderTrainer(modules, generator, sampler, cfg, device, classifier)
    out = Path(args.out) if args.out else (None if args.dry_run else encoder_path_for(gan_path))
    samples_dir = Path(args.samples_dir) if args.samples_dir else (out.with_name(out.stem + "-samples") if out else None)
    gan_title = gan.meta.get("title", gan_path.stem)
    meta = {"title": args.title or f"Encoder for {gan_title}",
            "description": args.description or (f"Finds the {generator.cfg.latent_dim} numbers that make "
                                                f"{gan_path.stem} draw a given picture (a first guess; refinement polishes it)."),
            "command": command, "for": {"file": gan_path.name, "digest": file_digest(gan_path), "num_classes": g.num_classes},
            "dataset": ds.describe(),
            "config": trainer.E.cfg.to_dict(), "training": cfg.to_dict(), "device": str(device)}
    print(f"training an encoder for {gan_path.name} on {ds.name} {ds.split} ({len(ds)} pictures) on {device} "
          f"for {total} steps")
    start = time.perf_counter()
    try:
        for rec in trainer.run(total):
            if rec.step % args.log_every == 0 or rec.step == total:
                stats = " ".join(f"{k}={v:.4f}" for k, v in rec.floats().items())
                print(f"step {rec.step}/{total} {rec.elapsed:.0f}s {stats}", flush=True)
            if samples_dir and args.sample_every and rec.step % args.sample_every == 0:
                write_samples(trainer, samples_dir / f"step{rec.step:07d}.png")
            if out and args.save_every and rec.step % args.save_every == 0:
                trainer.save(out, dict(meta, train_seconds=time.perf_counter() - start), with_optimizers=False)
    except TrainingDiverged as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
    meta["train_seconds"] = time.perf_counter() - start
    if samples_dir:
        write_samples(trainer, samples_dir / "final.png")
    if not out:
        return 0
    trainer.save(out, meta, with_optimizers=False)
    print(f"saved {out} after {trainer.step} steps in {meta['train_seconds']:.0f} s")
    if args.dry_run:
        return 0
    # Quick figures (encoder alone, all test pictures); `explorer.encode --evaluate` adds refinement.
    figures = evaluate_inversion(gan_family, trainer.E.eval(), classifier, dataset=gan_dataset, refine_subset=0,
                                 gan_samples=0, data_dir=args.data_dir, timing=False)
    for key, val in figures.items():
        print(f"  {key:28s} {val:10.4f}  {EXPLAIN.get(key, '')}")
    meta = update_metadata(out, {"evaluation": figures})
    out.with_suffix(".md").write_text(encoder_card(meta, meta["title"]))
    return 0
