"""Wiring handlers to components by name, and the one error edge of the UI.

Handlers are plain functions of plain values: they take keyword arguments named like the input
components and return {output name: value} (a value, or `gr.update(...)`), so a test calls them
without building any Blocks. `Parts` maps those names to components (a name may stand for a list
of components, e.g. "sliders": its value is then a list); `event` turns a handler into the keyword
arguments of a Gradio event (`button.click(**event(...))`, `dep.then(**event(...))`).

Errors: a handler raises `UserError` for what a person can fix; `event` shows its message (in the
output named `errors_to`, else as a warning toast) and leaves every other output as it was.
Anything else is a bug: logged with its traceback and shown as "internal error (logged)", never as
the exception's own text. A handler that wants the event's data (a click's index) or the request
names its first parameter `evt` or `request`.
"""
from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Iterable

import gradio as gr

from explorer.core.validation import UserError
from explorer.ui import widgets

log = logging.getLogger(__name__)
INTERNAL_ERROR = "Internal error (logged on the server)."


class Parts:
    """name -> component, or a list of components under one name."""

    def __init__(self, **named):
        self._named: dict[str, object] = {}
        self.add(**named)

    def add(self, **named) -> None:
        for name, comp in named.items():
            self._named[name] = list(comp) if isinstance(comp, (list, tuple)) else comp

    def __getitem__(self, name: str):
        return self._named[name]

    def __contains__(self, name: str) -> bool:
        return name in self._named

    def names(self) -> list[str]:
        return list(self._named)

    def components(self, names: Iterable[str]) -> list:
        out = []
        for n in names:
            c = self._named[n]
            out.extend(c if isinstance(c, list) else [c])
        return out

    def values(self, names: Iterable[str], args: tuple) -> dict:
        """Positional values of `components(names)` -> {argument name: value} (a list for a list name;
        a prefixed name, "interp.map_ends", is the argument `map_ends`)."""
        out, i = {}, 0
        for n in names:
            c, arg = self._named[n], n.rsplit(".", 1)[-1]
            if isinstance(c, list):
                out[arg], i = list(args[i:i + len(c)]), i + len(c)
            else:
                out[arg], i = args[i], i + 1
        return out

    def updates(self, result: dict | None) -> dict:
        """{name: value} -> {component: value}; a list name takes a list (or one value for all)."""
        out = {}
        for n, v in (result or {}).items():
            c = self._named[n]
            if isinstance(c, list):
                vals = v if isinstance(v, (list, tuple)) else [v] * len(c)
                out.update(zip(c, vals))
            else:
                out[c] = v
        return out


def user_message(exc: BaseException, what: str = "") -> str:
    """What a person is shown for an exception: a UserError's own words; for a bug, a fixed line
    (the traceback goes to the log)."""
    if isinstance(exc, UserError):
        return str(exc)
    log.error("UI handler %s failed", what or "?", exc_info=exc)
    return INTERNAL_ERROR


def _shown(text: str, errors_to: str | None, toast: bool, on_error: dict | None) -> dict:
    """The message in the output `errors_to` and/or a toast, plus the fixed `on_error` outputs."""
    if toast or not errors_to:
        widgets.warn(text)
    return {**(on_error or {}), **({errors_to: widgets.message(text)} if errors_to else {})}


def guarded(fn: Callable, errors_to: str | None = None, toast: bool = False, on_error: dict | None = None) -> Callable:
    """`fn` with the UI's error edge: a UserError's message or "internal error (logged)" goes to the
    output `errors_to` (an HTML panel; `toast`: also a warning toast) or else a warning toast, the
    outputs in `on_error` get those values, and nothing else changes."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the UI's one error edge
                yield _shown(user_message(exc, fn.__qualname__), errors_to, toast, on_error)
        return gen

    @functools.wraps(fn)
    def plain(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the UI's one error edge
            return _shown(user_message(exc, fn.__qualname__), errors_to, toast, on_error)
    return plain


def event(parts: Parts, fn: Callable, inputs: Iterable[str] = (), outputs: Iterable[str] = (),
          errors_to: str | None = None, toast: bool = False, on_error: dict | None = None, **options) -> dict:
    """Keyword arguments for a Gradio event: `fn` called with {input name: value}, its {name: value}
    result sent to the named outputs. `options` go to Gradio (trigger_mode, js, show_progress…);
    events are private (not API endpoints) and quiet unless `options` say otherwise."""
    inputs, outputs = list(inputs), list(outputs)
    safe = guarded(fn, errors_to, toast, on_error)
    out_components = parts.components(outputs)

    def updates(result: dict | None) -> dict:
        # Gradio reads an empty dict as one missing value: "no change" is said for one output instead
        return parts.updates(result) or ({out_components[0]: gr.skip()} if out_components else {})
    special = next(iter(inspect.signature(fn).parameters), None)

    def call(special_value, args):
        kwargs = parts.values(inputs, args)
        if special in ("evt", "request"):
            kwargs[special] = special_value
        return kwargs

    if inspect.isgeneratorfunction(fn):
        def run(*args):
            for result in safe(**call(None, args)):
                yield updates(result)
    else:
        def run(*args):
            return updates(safe(**call(None, args)))
    if special == "evt":
        if inspect.isgeneratorfunction(fn):
            def run(evt: gr.EventData, *args):  # noqa: F811 - gradio passes the event data first
                for result in safe(**call(evt, args)):
                    yield updates(result)
        else:
            def run(evt: gr.EventData, *args):  # noqa: F811
                return updates(safe(**call(evt, args)))
    elif special == "request":
        def run(request: gr.Request, *args):  # noqa: F811
            return updates(safe(**call(request, args)))
    if not outputs:                    # Gradio wants nothing back from an event without outputs
        inner = run

        @functools.wraps(inner)
        def run(*args):  # noqa: F811 - same special first parameter (wraps keeps signature and hints)
            inner(*args)
    run.__name__ = getattr(fn, "__name__", "handler")
    opts = {"api_visibility": "private", "show_progress": "hidden", **options}
    return dict(fn=run, inputs=parts.components(inputs), outputs=out_components, **opts)


def prefixed(prefix: str, result: dict) -> dict:
    """A tab's {name: value} in the app's name space, where that tab's names start with `prefix.`."""
    return {f"{prefix}.{name}": value for name, value in result.items()}


def chain(dependency, *steps: dict):
    """`dependency.then(**step)` for each step in turn; returns the last dependency."""
    for step in steps:
        dependency = dependency.then(**step)
    return dependency
