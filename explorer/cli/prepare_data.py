"""`python -m explorer.prepare emoji [PATH]` and `python -m explorer.prepare folder PATH --name NAME`:
decode a dataset once into a prepared dataset (explorer/core/data/prepared.py), loadable by name
(`python -m explorer.train --dataset emoji`) and listed for the Train tab.

emoji: npm's emoji-datasource-twitter 16.0.0, fetched with `npm pack` when no PATH is given (the only
download in the whole program, and only when asked), or read from PATH: the package's .tgz or an
unpacked folder. The category of each emoji is its class; 20 % of each category (whole emoji, all
skin tones together, drawn with seed 0) is the held-out test split.
folder: any image folder (sub-folders become classes), with a seeded held-out split of its own.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from explorer.cli.args import number, whole
from explorer.cli.exits import run_command
from explorer.core.data import DATASETS, load_image_folder
from explorer.core.data.emoji import (
    ATTRIBUTION,
    PACKAGE,
    SPLIT_SEED,
    TEST_FRACTION,
    VERSION,
    read_emoji_package,
)
from explorer.core.data.folder import guess_picture_shape
from explorer.core.data.prepared import check_destination, prepared_folder, split_indices, write_prepared
from explorer.core.models.limits import IMAGE
from explorer.core.validation import UserError

TARBALL_URL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
NO_NPM = (f"npm (Node.js's package manager) is not installed, so {PACKAGE} {VERSION} cannot be fetched. "
          f"Either install Node.js, which includes npm (Debian/Ubuntu: sudo apt-get install npm; macOS: brew install "
          f"node; Windows: https://nodejs.org) and run this again, or download {TARBALL_URL} with a browser and run: "
          f"python -m explorer.prepare emoji PATH/TO/{PACKAGE}-{VERSION}.tgz")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def fetch_with_npm(dest: Path) -> Path:
    """`npm pack` the package into `dest`; the .tgz's path, or UserError saying what to install."""
    npm = shutil.which("npm")
    if npm is None:
        raise UserError(NO_NPM)
    print(f"fetching {PACKAGE}@{VERSION} with npm pack (about 60 MB)...", flush=True)
    try:
        res = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=dest, capture_output=True,
                             text=True, timeout=900)
    except subprocess.TimeoutExpired:
        raise UserError(f"npm pack {PACKAGE}@{VERSION} took over 15 minutes; download {TARBALL_URL} and give its path.") from None
    tgz = sorted(dest.glob("*.tgz"))
    if res.returncode or not tgz:
        tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
        raise UserError(f"npm pack {PACKAGE}@{VERSION} failed ({' / '.join(tail) or f'exit code {res.returncode}'}). "
                        f"Without a network, download {TARBALL_URL} elsewhere and give its path.")
    return tgz[0]


def prepare_emoji(source: Path | None, data_dir=None, progress: bool = True) -> Path:
    """Build the emoji dataset from `source` (.tgz or folder; None: fetch with npm); returns its folder."""
    dest = check_destination(prepared_folder("emoji", data_dir))      # before the download and the decoding
    with tempfile.TemporaryDirectory(prefix="latent-explorer-npm-") as tmp:
        src = source if source is not None else fetch_with_npm(Path(tmp))
        em = read_emoji_package(src, progress)
    train, test = split_indices(em.labels, TEST_FRACTION, SPLIT_SEED, em.groups)
    info = {"name": "emoji", "class_names": em.class_names, "source": f"npm {PACKAGE} {em.version}",
            "licence": "CC-BY 4.0 (pictures)", "attribution": ATTRIBUTION, "left_out": em.left_out,
            "split": f"{TEST_FRACTION:.0%} of each category held out (whole emoji, seed {SPLIT_SEED})",
            "names": {"train": [em.names[i] for i in train], "test": [em.names[i] for i in test]}}
    if em.version != VERSION:
        print(f"note: this is {PACKAGE} {em.version}; the shipped models were trained on {VERSION}.", file=sys.stderr)
    out = write_prepared(dest, info, em.images, em.labels, {"train": train, "test": test})
    _summary(out, em.labels, train, test)
    if em.left_out:
        print("left out: " + ", ".join(f"{k} ({v} pictures)" for k, v in em.left_out.items()))
    print(ATTRIBUTION)
    return out.folder


def prepare_folder(folder: Path, name: str, image_size: int | None, channels: int | None, test_fraction: float,
                   seed: int, data_dir=None, cache_dir=None) -> Path:
    """A prepared dataset `name` from an image folder (decoded through the folder cache)."""
    if not NAME.match(name) or name in DATASETS:
        raise UserError(f"--name must be 1-40 lower-case letters, digits, - or _, and not one of {', '.join(DATASETS)};"
                        f" got {name!r}.")
    dest = check_destination(prepared_folder(name, data_dir))         # before the decoding
    if image_size is None or channels is None:
        guess = guess_picture_shape(folder)
        image_size, channels = image_size or guess[0], channels or guess[1]
    ds, skipped = load_image_folder(folder, image_size, channels, cache_dir=cache_dir)
    if skipped:
        print(f"skipped {len(skipped)} unreadable file(s): " + "; ".join(skipped[:5]), file=sys.stderr)
    labels = ds.labels.numpy() if ds.labels is not None else np.zeros(len(ds), np.int64)
    train, test = split_indices(labels, test_fraction, seed)
    info = {"name": name, "class_names": ds.class_names, "source": f"image folder {folder.resolve()}",
            "split": f"{test_fraction:.0%} of each class held out (seed {seed})"}
    out = write_prepared(dest, info, ds.images.numpy(), labels, {"train": train, "test": test})
    _summary(out, labels, train, test)
    return out.folder


def _summary(info, labels, train, test) -> None:
    print(f"wrote {info.name} to {info.folder}: {len(train)} training and {len(test)} test pictures, "
          f"{info.image_size}x{info.image_size}, {info.channels} channel(s)")
    for c, cname in enumerate(info.class_names):
        print(f"  {cname:20s} {int((labels[train] == c).sum()):6d} train {int((labels[test] == c).sum()):6d} test")


def main(argv) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.prepare", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    e = sub.add_parser("emoji", help=f"the emoji dataset from npm's {PACKAGE} {VERSION}")
    e.add_argument("path", nargs="?", help="the package's .tgz or unpacked folder (default: fetch it with npm pack)")
    f = sub.add_parser("folder", help="a named dataset from your own image folder")
    f.add_argument("path")
    f.add_argument("--name", required=True, help="the name to load it by (--dataset NAME)")
    f.add_argument("--image-size", type=whole("--image-size", *IMAGE), help="default: the first picture's side if square, else 64")
    f.add_argument("--channels", type=whole("--channels", 1, 3), help="1 (grey) or 3 (RGB); default: from the first picture")
    f.add_argument("--test-fraction", type=number("--test-fraction", 0.0, 0.9), default=0.2)
    f.add_argument("--seed", type=whole("--seed", 0, 2**31 - 1), default=0)
    for q in (e, f):
        q.add_argument("--data-dir", help="where to write it (default: $EXPLORER_DATA, else ~/.cache/latent-explorer)")
    args = p.parse_args(argv)

    def work() -> int:
        if args.what == "emoji":
            prepare_emoji(Path(args.path) if args.path else None, args.data_dir)
        else:
            prepare_folder(Path(args.path), args.name, args.image_size, args.channels, args.test_fraction,
                           args.seed, args.data_dir)
        return 0
    return run_command(work, interrupted="no dataset was written (one prepared before is unchanged)")
