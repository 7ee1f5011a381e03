"""Benchmarks (`python -m explorer.bench`): see __main__.py for the subcommands."""
from explorer.cli.bench.http import AppProcess, latency, startup
from explorer.cli.bench.speed import decode, train_ui, umap_bench

__all__ = ["AppProcess", "latency", "startup", "decode", "train_ui", "umap_bench"]
