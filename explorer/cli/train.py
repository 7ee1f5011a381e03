"""`python -m explorer.train`: train a DCGAN, style-based GAN, VAE, 2-D toy GAN or the evaluation classifier.

A thin loop over the trainers in explorer.training: a tqdm progress bar, sample grids every
--sample-every steps, a checkpoint every --save-every steps (only of a state that passed the
NaN/inf check), and the exact command written into the checkpoint's metadata.

Under torchrun (RANK, WORLD_SIZE, LOCAL_RANK in the environment) the DCGAN, the style-based GAN and the VAE train
data-parallel (explorer/cli/train_ddp.py): each process its share of every global batch, rank 0
alone printing and writing. Without them: one process, exactly as always.

Examples:
    python -m explorer.train --model dcgan --dataset fashion-mnist --epochs 30 --out checkpoints/fashion_dcgan.safetensors
    python -m explorer.train --model vae --latent-dim 2 --epochs 30 --out runs/vae2.safetensors
    python -m explorer.train --model dcgan --dataset digits --steps 2 --dry-run
    python -m explorer.train --model encoder --for checkpoints/fashion_dcgan.safetensors --steps 1500
    torchrun --nproc_per_node=4 -m explorer.train --model dcgan --batch-size 128 --epochs 30 --out runs/gan.safetensors
"""
from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from pathlib import Path

import torch

from explorer.cli.args import number, whole
from explorer.cli.gan_args import add_gan_arguments
from explorer.cli.samples import write_samples
from explorer.cli.train_stylegan import add_stylegan_args, stylegan_train_config
from explorer.cli.train_ddp import DataParallel
from explorer.core.checkpoints import check_writable, load_checkpoint
from explorer.core.data import (
    DATASETS,
    TOY_NAMES,
    guess_picture_shape,
    load_dataset,
    load_image_folder,
    resize_images,
    to_unit,
)
from explorer.core.device import choose_device
from explorer.core.models.limits import HIDDEN, IMAGE, LATENT, MAX_DROPOUT, WIDTH
from explorer.core.validation import MAX_SEED, UserError
from explorer.training import (
    ClassifierTrainConfig,
    GANTrainConfig,
    ImageSampler,
    ToySampler,
    TrainingDiverged,
    VAETrainConfig,
    class_count,
    critic_settings,
    make_trainer,
)
from explorer.training.diffaugment import resolve_policy


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m explorer.train", description=__doc__.split("\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--model", choices=["dcgan", "stylegan", "vae", "toy_gan", "classifier", "encoder"], default="dcgan")
    p.add_argument("--for", dest="gan_for", metavar="GAN",
                   help="--model encoder: the GAN checkpoint whose generator the encoder inverts")
    p.add_argument("--dataset", help=f"one of {', '.join(DATASETS + TOY_NAMES)} (default: fashion-mnist; "
                                      "--model encoder: the GAN's own dataset)")
    p.add_argument("--split", default="train", choices=["train", "test"])
    p.add_argument("--data-dir", help="folder with the IDX files, and only there (default: $EXPLORER_DATA if set, else /usr/share/datasets, then the shipped test split)")
    p.add_argument("--image-folder", help="train on your own PNG/JPEG images instead of --dataset (decoded once into a cache)")
    p.add_argument("--image-size", type=whole("--image-size", *IMAGE),
                   help="picture side in pixels (default: the dataset's own; an image folder's first picture if square, else 64)")
    p.add_argument("--channels", type=whole("--channels", 1, 3), choices=[1, 3],
                   help="1 = grey, 3 = RGB (default: the dataset's own; an image folder's first picture's)")
    p.add_argument("--steps", type=whole("--steps", 1, 10**9), help="total optimisation steps (overrides --epochs)")
    p.add_argument("--epochs", type=number("--epochs", 1e-6, 10_000), default=10.0, help="passes over the data (image datasets)")
    p.add_argument("--batch-size", type=whole("--batch-size", 1, 65_536), default=128)
    p.add_argument("--seed", type=whole("--seed", 0, MAX_SEED), default=0)
    p.add_argument("--threads", type=whole("--threads", 1, 1024), help="CPU threads for PyTorch (default: PyTorch's choice)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--fast-path", choices=["auto", "on", "off"], default="auto",
                   help="capture each training step as a CUDA graph (auto: on CUDA devices; off: the plain eager loop)")
    p.add_argument("--out", help="checkpoint to write (.safetensors)")
    p.add_argument("--resume", help="checkpoint to continue from (optimiser state included)")
    p.add_argument("--save-every", type=whole("--save-every", 0, 10**9), default=2000)
    p.add_argument("--without-optimizer", action="store_true",
                   help="leave optimiser state (and with --ema-half-life the live generator) out of the checkpoints "
                        "(smaller; for shipping, not resuming)")
    p.add_argument("--sample-every", type=whole("--sample-every", 0, 10**9), default=1000, help="write a sample grid PNG every N steps (0: never)")
    p.add_argument("--samples-dir", help="where sample grids go (default: beside --out, in <name>-samples/)")
    p.add_argument("--log-every", type=whole("--log-every", 1, 10**9), default=100)
    p.add_argument("--dry-run", action="store_true", help="quick smoke run: no files written unless --out is given")
    d = p.add_argument_group("data-parallel (under torchrun)")
    d.add_argument("--sync-bn", action="store_true",
                   help="BatchNorm statistics over the global batch, not each process's share (DCGAN)")
    d.add_argument("--ddp-timeout", type=number("--ddp-timeout", 10, 86_400), default=300,
                   help="seconds a process waits for the others before it stops with an error")
    p.add_argument("--conditional", action="store_true",
                   help="class-conditional DCGAN, style-based GAN or VAE (a cVAE): the dataset's labels go into the model")
    p.add_argument("--title", help="title shown in the model picker")
    p.add_argument("--description", help="one or two sentences for the model card")
    m = p.add_argument_group("model")
    m.add_argument("--latent-dim", type=whole("--latent-dim", *LATENT))
    m.add_argument("--width", type=whole("--width", *WIDTH))
    m.add_argument("--d-width", type=whole("--d-width", *WIDTH), help="discriminator width (DCGAN)")
    m.add_argument("--hidden", type=whole("--hidden", *HIDDEN), help="VAE: units of its fully connected layers")
    m.add_argument("--upsample", choices=["nearest", "transposed"])
    m.add_argument("--d-norm", choices=["batch", "layer", "none"])
    m.add_argument("--d-dropout", type=number("--d-dropout", 0.0, MAX_DROPOUT))
    m.add_argument("--d-condition", choices=["projection", "concat"], help="how a conditional D sees the class")
    m.add_argument("--recon", choices=["bernoulli", "gaussian"], help="VAE reconstruction loss")
    m.add_argument("--dropout", type=number("--dropout", 0.0, MAX_DROPOUT), help="VAE encoder dropout (default 0.2)")
    add_gan_arguments(p)
    add_stylegan_args(p)
    v = p.add_argument_group("VAE / classifier training")
    v.add_argument("--lr", type=number("--lr", 1e-8, 1.0), help="learning rate (VAE: 1e-3, classifier: 2e-3)")
    v.add_argument("--beta", type=number("--beta", 0.0, 1000.0), default=1.0, help="VAE KL weight")
    args = p.parse_args(argv)
    if args.dataset is None and args.model != "encoder":
        args.dataset = "fashion-mnist"
    return args


def model_config(args) -> dict:
    keys = {"dcgan": ["latent_dim", "width", "d_width", "upsample", "d_norm", "d_dropout", "d_condition"],
            "stylegan": ["latent_dim", "w_dim", "mapping_layers", "channel_base", "channel_max"],
            "vae": ["latent_dim", "width", "hidden", "recon", "dropout"], "toy_gan": ["latent_dim"], "classifier": ["width"]}[args.model]
    cfg = {k: getattr(args, k) for k in keys if getattr(args, k) is not None}
    if getattr(args, "num_classes", 0):
        cfg["num_classes"] = args.num_classes
    if args.model == "dcgan" and args.d_norm is None:
        cfg.update(critic_settings(args.loss))
    if args.model == "classifier" and getattr(args, "class_total", 0):
        cfg["num_classes"] = args.class_total                # one output per class of the data
    if getattr(args, "image_shape", None) and args.model in ("dcgan", "stylegan", "vae", "classifier"):
        cfg["channels"], cfg["image_size"] = args.image_shape[0], args.image_shape[1]   # the data's pictures
    return cfg


def train_config(args):
    if args.model == "stylegan":
        return stylegan_train_config(args)
    if args.model in ("dcgan", "toy_gan"):
        return GANTrainConfig(loss=args.loss, k=args.k, batch_size=args.batch_size, lr_g=args.lr_g, lr_d=args.lr_d,
                              beta1=args.beta1, beta2=args.beta2, label_smoothing=args.label_smoothing, seed=args.seed,
                              ema_half_life=args.ema_half_life or 0.0, ema_rampup=args.ema_rampup,
                              r1_gamma=args.r1 or 0.0, r1_every=args.r1_every,
                              diffaugment=resolve_policy(args.diffaugment, getattr(args, "data_size", 0))
                              if args.model == "dcgan" else "")
    if args.model == "vae":
        return VAETrainConfig(batch_size=args.batch_size, lr=args.lr or 1e-3, beta=args.beta, seed=args.seed)
    # mirrored clothes are still the same clothes; a mirrored digit is not the same digit
    return ClassifierTrainConfig(batch_size=args.batch_size, lr=args.lr or 2e-3, seed=args.seed,
                                 flip=args.dataset in ("fashion-mnist", "emoji") and not args.image_folder)


def load_data(args, device, par: DataParallel | None = None):
    """(sampler, dataset-or-None, dataset metadata); under torchrun the sampler serves this
    process's share of each epoch."""
    if args.model == "toy_gan":
        if args.dataset not in TOY_NAMES:
            raise UserError(f"toy_gan trains on a 2-D distribution: --dataset must be one of {', '.join(TOY_NAMES)}, got {args.dataset!r}.")
        return ToySampler(args.dataset, device), None, {"name": args.dataset, "split": "sampled", "size": 0, "class_names": []}
    if args.image_folder:
        size, channels = args.image_size, args.channels
        if size is None or channels is None:
            guess = guess_picture_shape(args.image_folder)
            size, channels = size or guess[0], channels or guess[1]
        ds, skipped = load_image_folder(args.image_folder, size, channels)
        if skipped:
            print(f"skipped {len(skipped)} unreadable file(s): " + "; ".join(skipped[:5]), file=sys.stderr)
    else:
        ds = load_dataset(args.dataset, args.split, args.data_dir)
        ds.images = resize_images(ds.images, args.image_size or ds.image_shape[1], args.channels or ds.image_shape[0])
    args.image_shape, args.data_size = ds.image_shape, len(ds)
    args.class_total = max(len(ds.class_names), int(ds.labels.max()) + 1 if ds.labels is not None and len(ds) else 0)
    value_range = (-1.0, 1.0) if args.model in ("dcgan", "stylegan") else (0.0, 1.0)
    meta = ds.describe()
    if par is not None:
        return par.sampler(ds.images, device, value_range, ds.labels), ds, meta
    return ImageSampler(ds.images, device, value_range, ds.labels), ds, meta


@torch.no_grad()
def test_accuracy(net, args, device) -> float:
    ds = load_dataset(args.dataset, "test", args.data_dir)
    ds.images = resize_images(ds.images, args.image_shape[1], args.image_shape[0])   # as the training pictures
    net.eval()
    correct = 0
    for i in range(0, len(ds), 1000):
        x = to_unit(ds.images[i:i + 1000].to(device))
        correct += int((net(x).argmax(1).cpu() == ds.labels[i:i + 1000]).sum())
    net.train()
    return correct / len(ds)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        return train(args, sys.argv[1:] if argv is None else argv)
    except UserError as exc:          # bad data, settings or files: one line, no traceback
        rank = os.environ.get("RANK")  # under torchrun every process may say why it stopped
        print(f"error: {'rank ' + rank + ': ' if rank is not None else ''}{exc}", file=sys.stderr)
        return 2


def train(args, argv) -> int:
    command = "python -m explorer.train " + shlex.join(argv)
    if args.out:
        check_writable(args.out, "--out")         # now, not after the training it would throw away
    if args.model == "encoder":   # trains against a frozen generator: its own loop
        from explorer.cli.train_encoder import main_encoder
        return main_encoder(args, command)
    if args.model not in ("dcgan", "toy_gan", "stylegan") and (args.ema_half_life or args.r1):
        raise UserError(f"--ema-half-life and --r1 are GAN settings (--model dcgan, stylegan or toy_gan), not for "
                        f"--model {args.model}.")
    par = DataParallel.from_args(args)          # None: one process, as always
    main_process = par is None or par.is_main  # the one that prints and writes
    say = print if main_process else _quiet
    device = choose_device(args.device)
    if par is not None:
        device = par.device(device)
        command = par.command(argv)
    args.world_size = par.launch.world_size if par is not None else 1
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sampler, ds, data_meta = load_data(args, device, par)
    args.num_classes = conditional_classes(args, ds, sampler)
    trainer = make_trainer(args.model, model_config(args), train_config(args), sampler, device)
    if par is not None:                        # full global batches only
        steps_per_epoch = sampler.batches_per_epoch
    else:
        steps_per_epoch = max(1, math.ceil(len(ds) / args.batch_size)) if ds is not None else 1000
    total = args.steps if args.steps is not None else int(round(args.epochs * steps_per_epoch))
    earlier_s = 0.0                                    # a resumed run's training time before this part
    if args.resume:
        ck = load_checkpoint(args.resume, device, with_optimizers=True)
        if ck.kind != args.model:
            raise UserError(f"--resume {args.resume} holds a {ck.kind}, not a {args.model}.")
        trainer.restore(ck.modules, ck.optim_state, ck.meta.get("steps", 0), ck.meta.get("images_seen", 0),
                        ck.random_state)
        command = ck.meta.get("command", "") + " && " + command
        seconds = ck.meta.get("train_seconds")         # the card's time is the whole run's, over its resumptions
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and math.isfinite(seconds) and seconds > 0:
            earlier_s = float(seconds)
        say(f"resumed from {args.resume} at step {trainer.step}")
    if par is not None:
        par.begin(trainer, sampler)            # joins the process group; wraps the trainer in DDP
    elif args.fast_path != "off":
        status = trainer.use_fast_path()
        if args.fast_path == "on" or device.type == "cuda":
            print(f"fast path: {status}")
    out = Path(args.out) if args.out else None
    samples_dir = Path(args.samples_dir) if args.samples_dir else (out.with_name(out.stem + "-samples") if out else None)
    if args.dry_run and not args.samples_dir:
        samples_dir = None
    meta = {"title": args.title or (out.stem if out else args.model), "description": args.description or "",
            "command": command, "dataset": data_meta, "config": trainer_config_dict(trainer),
            "training": {k: v for k, v in vars(train_config(args)).items() if v is not None}, "device": str(device)}
    if par is not None:
        meta["distributed"] = par.meta(trainer)
        meta["training"]["global_batch"] = meta["distributed"]["global_batch"]
        for line in par.describe(trainer):
            say(line)
    say(f"training {args.model} on {data_meta['name']} ({data_meta['size'] or 'freshly sampled'} points) on {device} for {total} steps")
    start = time.perf_counter() - earlier_s
    ok = False
    try:
        from tqdm import tqdm
        bar = tqdm(total=total, initial=trainer.step, unit="step", dynamic_ncols=True,
                   disable=None if main_process else True)
        for rec in trainer.run(total):
            bar.update(1)
            if par is not None:
                par.step_done()
            if rec.step % args.log_every == 0 or rec.step == total:
                values = par.logged_values(rec.values) if par is not None else rec.floats()
                stats = {k: f"{v:.3f}" for k, v in values.items()} | {"img/s": f"{rec.images_per_s:.0f}"}
                bar.set_postfix(stats)
                if bar.disable and main_process and (rec.step % (10 * args.log_every) == 0 or rec.step == total):
                    print(f"step {rec.step}/{total} epoch {rec.epoch:.1f} " + " ".join(f"{k}={v}" for k, v in stats.items()), flush=True)
            sample_now = samples_dir and args.model != "classifier" and args.sample_every and rec.step % args.sample_every == 0
            save_now = out and args.save_every and rec.step % args.save_every == 0
            if par is not None and (sample_now or save_now):
                par.before_output(trainer)     # every process: divergence vote, BatchNorm statistics averaged
            if sample_now and main_process:
                write_samples(trainer, samples_dir / f"step{rec.step:07d}.png")
            if save_now and main_process:
                trainer.save(out, dict(meta, train_seconds=time.perf_counter() - start),
                             with_optimizers=not args.without_optimizer)
        bar.close()
        if par is not None:
            par.before_output(trainer)
        ok = True
        if trainer.fast_path_status != "off" and device.type == "cuda":
            say(f"fast path: {trainer.fast_path_status}")
    except TrainingDiverged as exc:
        if main_process:
            print(f"\n{exc}" + (f" The last good checkpoint is {out}." if out and out.exists() else ""), file=sys.stderr)
        return 2
    except Exception as exc:                   # noqa: BLE001 - only a lost process is turned into a message
        message = par.lost_contact_message(exc, trainer.step, out) if par is not None else None
        if message is None:
            raise
        print(f"\nerror: {message}", file=sys.stderr, flush=True)
        return 3
    finally:
        if par is not None:
            par.end(ok)
    if not main_process:
        return 0
    meta["train_seconds"] = time.perf_counter() - start
    if args.model == "classifier" and ds is not None and not args.image_folder:
        acc = test_accuracy(trainer.net, args, device)
        meta["evaluation"] = {"test_accuracy": acc}
        print(f"test accuracy: {acc:.4f}")
    if out:
        trainer.save(out, meta, with_optimizers=not args.without_optimizer)
        print(f"saved {out} after {trainer.step} steps in {meta['train_seconds']:.0f} s of training")
    if samples_dir and args.model != "classifier":
        write_samples(trainer, samples_dir / "final.png")
    return 0


def _quiet(*args, **kwargs) -> None:
    """print() for the processes other than rank 0: they train, rank 0 reports."""


def conditional_classes(args, ds, sampler) -> int:
    """The number of classes for --conditional (0 without it), or UserError saying why not."""
    if not args.conditional:
        return 0
    return class_count(args.model, args.loss, sampler, ds.class_names if ds is not None else [])


def trainer_config_dict(trainer) -> dict:
    first = next(iter(trainer.modules.values()))
    return first.cfg.to_dict()


if __name__ == "__main__":
    sys.exit(main())
