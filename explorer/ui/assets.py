"""The page's JavaScript, CSS and HTML templates: files in explorer/ui/static/, read here and nowhere else.

The files are code like any other (read, linted with `node --check`, changed) rather than strings inside
Python. The app hands them to Gradio, which serves them inside its page: the CSS (`page_css`) and the
start-up script (`page_js`) with the app's launch settings, and each gr.HTML widget's template and
`js_on_load` script (`html`, `js`) where that widget is built.

A .js file starts with a few `//` lines saying what it is; they are dropped when it is handed over, so a
script that is an expression (an event's `(value) => {...}`) stays one.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

STATIC = Path(__file__).with_name("static")
# the page's start-up scripts, in the order they run (presentation.js first: the others' keys defer to it)
PAGE_SCRIPTS = ("presentation.js", "fast_picture.js", "typed_values.js", "train_owner.js", "page.js")
PAGE_STYLES = ("page.css", "presentation.css")


@functools.cache
def _text(name: str) -> str:
    path = STATIC / name
    if path.parent != STATIC or not path.is_file():
        raise FileNotFoundError(f"explorer/ui/static has no file {name!r}")
    return path.read_text(encoding="utf-8")


def _filled(text: str, fill: dict[str, str]) -> str:
    """`{key}` places filled with `fill` (fixed values of the app, never a visitor's text)."""
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    return text


def js(*names: str, **fill: str) -> str:
    """The scripts `names`, joined in order, each without its leading `//` comment lines (`fill`: as `html`)."""
    out = []
    for name in names:
        lines = _text(name).splitlines()
        while lines and lines[0].lstrip().startswith("//"):
            lines.pop(0)
        out.append("\n".join(lines))
    return _filled("\n".join(out) + "\n", fill)


def html(name: str, **fill: str) -> str:
    """An HTML template, its `{key}` places filled with `fill`."""
    return _filled(_text(name), fill)


def css() -> str:
    """The page's style sheet."""
    return "\n".join(_text(name) for name in PAGE_STYLES)


def page_js(tips: dict[str, str]) -> str:
    """The script Gradio runs once at page load: the tooltips (`tips`: element id -> text, fixed text of the
    app) for page.js, then every start-up script."""
    return "() => {\nwindow.leTips = " + json.dumps(tips) + ";\n" + js(*PAGE_SCRIPTS) + "}"
