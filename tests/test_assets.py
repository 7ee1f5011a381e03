"""The page's JavaScript, CSS and HTML live as files in explorer/ui/static/ (explorer/ui/assets.py reads them):
each script is valid JavaScript, every file is used, and none is left as a string inside Python."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from explorer.ui import assets

UI = Path(assets.__file__).parent


def test_every_script_is_valid_javascript():
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    for path in sorted(assets.STATIC.glob("*.js")):
        done = subprocess.run([node, "--check", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{path.name}: {done.stderr}"


def test_every_static_file_is_used_and_read_only_through_the_loader():
    source = "\n".join(p.read_text() for p in UI.glob("*.py"))
    for path in assets.STATIC.iterdir():
        assert f'"{path.name}"' in source, f"{path.name} is never loaded"
    for path in UI.glob("*.py"):
        if path.name != "assets.py":
            assert "static" not in re.findall(r"Path\([^)]*\)", path.read_text()), path.name


def test_no_page_code_is_left_in_python_strings():
    """Multi-line scripts and style sheets went to static/: a Python string of the UI holds no function body
    (`=> {` over several lines), no `<script>` of its own and no CSS rule block."""
    for path in UI.glob("*.py"):
        for literal in re.findall(r'"""(.*?)"""', path.read_text(), flags=re.S):
            assert not re.search(r"=> \{\s*\n", literal), f"{path.name} keeps a script in a string"
            assert not re.search(r"^\s*[#.][\w-]+[^\n]*\{[^}]*:[^}]*\}", literal, flags=re.M), f"{path.name} keeps CSS"


def test_the_page_script_carries_the_tooltips_and_every_start_up_script():
    js = assets.page_js({"explore-seed": "A whole number"})
    assert js.startswith("() => {") and js.rstrip().endswith("}")
    assert 'window.leTips = {"explore-seed": "A whole number"}' in js
    for name in assets.PAGE_SCRIPTS:
        assert assets.js(name) in js
    with pytest.raises(FileNotFoundError):
        assets.js("../assets.py")
