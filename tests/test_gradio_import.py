"""Gradio is imported without its type-stub writer (explorer/ui/gradio_import.py): a component class
defined after the import writes no .pyi file beside its source, and the UI still builds."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_component_class_writes_no_stub_file(tmp_path):
    src = tmp_path / "my_component.py"
    src.write_text("import gradio as gr\n\n\nclass MyBox(gr.HTML):\n    pass\n")
    code = ("import explorer.ui, importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('my_component', {str(src)!r}); "
            "m = importlib.util.module_from_spec(spec); sys.modules['my_component'] = m; spec.loader.exec_module(m); "
            "print(m.MyBox.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "MyBox", out.stderr[-2000:]
    assert not src.with_suffix(".pyi").exists()
    # the same class with gradio imported the plain way does write one: the test can tell the difference
    plain = code.replace("import explorer.ui, ", "import ")
    out = subprocess.run([sys.executable, "-c", plain], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and src.with_suffix(".pyi").exists(), out.stderr[-2000:]


def test_the_hook_is_in_place_in_this_process():
    import gradio.component_meta as meta

    from explorer.ui.gradio_import import _skip_stubs
    assert meta.create_or_modify_pyi is _skip_stubs
    assert importlib.util.find_spec("gradio") is not None
