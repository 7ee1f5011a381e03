"""Importing Gradio without its type-stub writer: ~5 s less at every start on a small CPU.

At import, Gradio 6 re-reads and re-parses the source file of every component class it defines
(`gradio.component_meta.create_or_modify_pyi`, ~90 classes) to write `.pyi` type stubs next to
it: stubs for editors of custom components, never read at run time. On this project's 2-core
machine that is 5-6 s of every `python app.py` start and of every process that serves the UI.
`install()` (run by explorer/ui/__init__.py, before any module here imports gradio) swaps the
stub writer for a no-op as gradio.component_meta is loaded, and nothing else: if a Gradio version
no longer has the function, nothing is changed.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys

TARGET = "gradio.component_meta"


def _skip_stubs(*args, **kwargs) -> None:
    return None


class _Loader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        if hasattr(module, "create_or_modify_pyi"):
            module.create_or_modify_pyi = _skip_stubs


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != TARGET:
            return None
        sys.meta_path.remove(self)                 # one module, once: find it the usual way
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


def install() -> None:
    """Skip the stub writer when gradio is imported later in this process (a no-op once it is loaded)."""
    if TARGET not in sys.modules and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
