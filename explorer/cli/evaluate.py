"""`python -m explorer.evaluate CHECKPOINT [--json] [--write-card]`: how good is a model?

Prints FD (with the real-vs-real floor beside it), class coverage, precision and recall for
GANs and VAEs (plus test negative ELBO and reconstruction error for VAEs), or test accuracy for
the classifier. --json prints one JSON object; --write-card stores the figures in the
checkpoint's metadata and writes its Markdown model card beside it (CHECKPOINT.md).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from explorer.cli.args import whole
from explorer.core.checkpoints import (
    load_checkpoint,
    model_card,
    update_metadata,
)
from explorer.core.device import choose_device
from explorer.core.validation import MAX_SEED, UserError
from explorer.eval.evaluate import evaluate

EXPLAIN = {
    "fd": "Frechet distance to the test images of its own dataset (lower is better)",
    "fd_real_floor": "the same distance between two halves of the real test set (the best one can hope for)",
    "class_coverage": "how evenly the classes appear (1.0 = all equally; mode collapse lowers it)",
    "precision": "share of generated images that look like real ones (quality)",
    "recall": "share of real images the model can produce something close to (variety)",
    "neg_elbo": "test negative ELBO, nats per image (lower is better)",
    "recon_mse": "mean squared reconstruction error per pixel, images in [0, 1]",
    "test_accuracy": "share of the test images classified correctly",
    "features": "the feature network (a classifier trained on the model's own dataset)",
    "unavailable": "figures that need a feature network for this dataset",
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.evaluate", description=__doc__.split("\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--samples", type=whole("--samples", 100, 100_000), default=10_000)
    p.add_argument("--seed", type=whole("--seed", 0, MAX_SEED), default=0)
    p.add_argument("--device")
    p.add_argument("--data-dir")
    p.add_argument("--classifier", help="feature-extractor checkpoint (default: the shipped classifier)")
    p.add_argument("--write-card", action="store_true", help="store the figures in the checkpoint and write CHECKPOINT.md")
    args = p.parse_args(argv)
    try:
        return run(args)
    except UserError as exc:          # a bad file, data or setting: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args) -> int:
    ck = load_checkpoint(args.checkpoint, choose_device(args.device))
    if ck.kind == "encoder":   # a GAN's encoder is measured by inverting pictures: explorer.encode --evaluate
        from explorer.cli.encode import main as encode_main
        path = Path(args.checkpoint)
        gan = Path(ck.meta.get("for", {}).get("file", path.name.replace("-encoder", ""))).stem
        return encode_main(["--evaluate", "--model", gan, "--checkpoints-dir", str(path.parent), "--seed", str(args.seed)]
                           + ["--json"] * args.json + ["--write-card"] * args.write_card
                           + (["--device", args.device] if args.device else []))
    start = time.perf_counter()
    results = evaluate(ck, args.samples, args.seed, args.data_dir, args.classifier)
    if args.json:
        print(json.dumps(results, sort_keys=True))
    else:
        print(f"{Path(args.checkpoint).name}: {ck.kind}, evaluated in {time.perf_counter() - start:.1f} s")
        for key, val in results.items():
            print(f"  {key:15s} {val:10.4f}  {EXPLAIN.get(key, '')}" if isinstance(val, float) else f"  {key:15s} {val}")
    if args.write_card:
        path = Path(args.checkpoint)
        meta = update_metadata(path, {"evaluation": results})
        path.with_suffix(".md").write_text(model_card(meta, meta.get("title", path.stem)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
