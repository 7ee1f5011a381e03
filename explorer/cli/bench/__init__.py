"""Benchmarks (`python -m explorer.bench`): see __main__.py for the subcommands.

The names below load on first use, so `python -m explorer.bench quality-time` starts its clock
without paying for the HTTP client the latency bench needs."""
import importlib

_WHERE = {"AppProcess": "http", "latency": "http", "startup": "http", "decode": "speed", "train_ui": "speed",
          "umap_bench": "speed", "quality_time": "quality_time"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        return getattr(importlib.import_module(f"explorer.cli.bench.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'explorer.cli.bench' has no attribute {name!r}")
