"""Gradio is imported without its type-stub writer (explorer/ui/gradio_import.py): a component class
defined after the import writes no .pyi file beside its source, and the UI still builds."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]


def _define_component(folder: Path, name: str):
    """A component class defined in a module file of its own, as a custom component's author does."""
    src = folder / f"{name}.py"
    src.write_text("import gradio as gr\n\n\nclass MyBox(gr.HTML):\n    pass\n")
    spec = importlib.util.spec_from_file_location(name, src)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return src, module.MyBox


def test_a_component_class_writes_no_stub_file(tmp_path, monkeypatch):
    """In this process gradio was imported after explorer.ui (tests/conftest.py, as in app.py)."""
    src, cls = _define_component(tmp_path, "my_component")
    assert cls.__name__ == "MyBox"
    assert not src.with_suffix(".pyi").exists()
    # the stub writer is what a class definition calls: with a stand-in in its place, it is called
    # (so the test can tell the hook from a Gradio that stopped writing stubs some other way)
    import gradio.component_meta as meta
    calls = []
    monkeypatch.setattr(meta, "create_or_modify_pyi", lambda component, name, events: calls.append(name))
    _define_component(tmp_path, "my_component2")
    assert calls == ["MyBox"]


def test_the_hook_is_in_place_in_this_process():
    import gradio.component_meta as meta

    from explorer.ui.gradio_import import _skip_stubs
    assert meta.create_or_modify_pyi is _skip_stubs
    assert importlib.util.find_spec("gradio") is not None
