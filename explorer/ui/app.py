"""The Gradio app: a one-row header with the model picker, the Explore / Interpolate / Map / Train tabs,
the guided tour, and the named API endpoints. This file only wires the tabs to each other.

Per visitor: the current model, the Explore latent, the interpolation ends, the selected map dot (in
Gradio state), the training owner token and "seen the introduction" (in the browser's storage), and
the view itself in the address bar, so a reload or a shared link shows the same picture.

The flow between tabs is declared once, in `Flows`: what every tab redraws when the model changes,
and what follows a change of the Explore picture.
"""
from __future__ import annotations

import gradio as gr

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.core.validation import UserError
from explorer.explore.recipe import recipe_values
from explorer.explore.workspace import Workspace
from explorer.live.session import TrainingSession
from explorer.ui import api, assets
from explorer.ui import undo as undo_history
from explorer.ui.explore_layout import POINT
from explorer.ui.explore_tab import ExploreTab
from explorer.ui.fast_picture import recipe_png
from explorer.ui.gradio_files import use_runtime_folder
from explorer.ui.interpolate_tab import InterpolateTab
from explorer.ui.map_tab import MapTab
from explorer.ui.picker import Picker, choices
from explorer.ui.texts import TITLE
from explorer.ui.tour import Tour
from explorer.ui.train_tab import TrainTab
from explorer.ui.wiring import Parts, chain, event, prefixed

TABS = ("explore", "interpolate", "map", "train")
# The visitor's open tab, held by the page: a tab click sets it at once (no server round trip), a handler
# that opens a tab (a tour step, a map dot sent elsewhere, a reloaded address) sets it and the tab opens
# as a click on its button opens it. Not a `gr.Tabs(selected=...)` output: Gradio's page re-reads the value
# of every component under an event's outputs at each status change of every later event, and the tabs
# hold them all (a tab switch cost ~20 000 copies more).
OPEN_TAB_JS = assets.js("open_tab.js")
VIEW_OPENED_JS = "() => { window.__leViewOpened = true; }"


def training_session(ws: Workspace) -> TrainingSession:
    """The one live-training session of a server (the Train tab and the API share it)."""
    return TrainingSession(ws.device, ws.folder, classifier_folders=(ws.folder, CHECKPOINT_DIR), gate=ws.gate)


class Flows:
    """The cross-tab flow, in one place: lists of event steps chained after a trigger."""

    def __init__(self, explore: ExploreTab, map_tab: MapTab):
        # after the Explore controls changed: its picture, strip and link, then the map's overlays
        self.explore_changed = [*explore.redraw, map_tab.refresh_event]
        # after every tab was set for a model in one event (App.switch_model, App.open_view): the link
        # follows the picture and the map draws its overlays
        self.model_set = [explore.share_event, map_tab.refresh_event]

    def after_explore_change(self, dependency):
        return chain(dependency, *self.explore_changed)

    def after_model_set(self, dependency):
        return chain(dependency, *self.model_set)


class App:
    """Plain handlers that span tabs: a model switch (every tab reset and redrawn in one event), a page
    opening, a pasted recipe, a map dot sent elsewhere."""

    def __init__(self, ws: Workspace, default_model: str, explore: ExploreTab, interp: InterpolateTab, map_tab: MapTab):
        self.ws, self.default_model = ws, default_model
        self.explore, self.interp, self.map_tab = explore, interp, map_tab

    def outputs(self) -> list[str]:
        """What a model switch sets: the Explore view, and the other tabs' model-dependent views
        (named with their tab's prefix in the app's name space)."""
        return [*self.explore.view_outputs, *[f"interp.{n}" for n in self.interp.model_outputs],
                *[f"map.{n}" for n in self.map_tab.model_outputs]]

    def open_view(self, r) -> dict:
        """Every tab shown for the checked recipe `r`: Explore's controls and picture; the other tabs reset."""
        return {**self.explore.view(r), **prefixed("interp", self.interp.on_model(r.model)),
                **prefixed("map", self.map_tab.on_model(r.model))}

    def switch_model(self, model, seed, temperature):
        """A new model (picked, uploaded, or a tour step's): every tab reset for it and redrawn, in one event.
        A model whose directions are still to be found (just saved or uploaded) shows its own picture first."""
        r = self.explore.model_recipe(model, seed, temperature)          # once: a note it makes is said once
        if not self.ws.directions_ready(r.model):
            yield {**self.explore.first_look(r), **prefixed("map", self.map_tab.on_model(r.model))}
        yield self.open_view(r)

    def apply_recipe(self, recipe):
        return self.open_view(self.explore.recipe_text(recipe))

    def undo(self, history):
        """The Explore picture before the last change (the history without its newest step)."""
        recipe, history = undo_history.step_back(history)
        return {**self.apply_recipe(recipe), "history": history}

    def remember(self, history, recipe):
        """The recipe now on show as Undo's newest step. A text that is no recipe is not kept: quietly
        (it is what a person typing in the recipe box sends), or with a toast when it is too large to be
        one; either way the history stays as it was."""
        try:
            return {"history": undo_history.remember(history, recipe, self.ws.recipe)}
        except undo_history.RecipeTooLarge:
            raise
        except UserError:
            return {}

    def load_view(self, request, visited):
        """A page opens: the view in its address (a shared link or a reload), else the default model's seed 0;
        the explanations are open on a first visit only."""
        params = dict(request.query_params) if request is not None else {}
        r = None
        if params.get("recipe"):
            try:
                raw = recipe_values(params["recipe"])
                if raw["model"] in self.ws.model_names():
                    r = self.ws.recipe(raw)
            except UserError:                   # a broken link opens the default view
                r = None
        out = self.open_view(r or self.ws.recipe({"model": self.default_model}))
        out["model"] = gr.update(choices=choices(self.ws), value=out["model"])    # models saved since the page was built
        tab = params.get("tab") if params.get("tab") in TABS else "explore"
        return {**out, "current_tab": tab, "explore_intro": gr.Accordion(open=not visited),
                "train_intro": gr.Accordion(open=not visited), "visited": True}

    def open_in_explore(self, model, selection, layers=()):
        """The Map's selected dot becomes the Explore picture."""
        if not selection:
            raise UserError("Click a dot on the map first.")
        return {**self.explore.use_latent(model, selection["latent"], cls=selection.get("class"),
                                          source=f"map dot #{int(selection.get('index', 0))}", layers=layers),
                "current_tab": "explore"}

    def map_dot_as(self, which: str):
        def handler(map_ends, selection):
            return {**prefixed("interp", self.interp.take_map_dot(which, map_ends, selection)),
                    "current_tab": "interpolate"}
        handler.__name__ = f"map_dot_as_{which}"
        return handler


def build_app(ws: Workspace, default_model: str, session: TrainingSession | None = None) -> gr.Blocks:
    use_runtime_folder()                 # Gradio's files go to the runtime folder, removed at exit
    session = session or training_session(ws)
    explore, interp, map_tab = ExploreTab(ws), InterpolateTab(ws), MapTab(ws)
    train, tour = TrainTab(session, choices=lambda: choices(ws), prepare=ws.prepare), Tour(ws.listing)
    app = App(ws, default_model, explore, interp, map_tab)
    with gr.Blocks(title=TITLE) as demo:
        api.register(ws, session)        # first, so the public endpoints keep their plain names
        picker = Picker(ws, default_model)
        model, _ = picker.build()
        owner_token = gr.BrowserState("", storage_key="latent-explorer-train-owner")
        visited = gr.BrowserState(False, storage_key="latent-explorer-visited")
        explore_z = gr.State(None)       # the latent shown in Explore
        explore_cls = gr.State(None)     # and its class (a class-conditional model), else None
        path_state = gr.State(None)      # the last interpolation paths, drawn on the map
        # the visitor's open tab (a map is computed only once it is looked at)
        current_tab = gr.HTML("explore", html_template="<span></span>", js_on_load=OPEN_TAB_JS, elem_id="le-current-tab")
        with gr.Tabs():
            blocks = {}
            with gr.Tab("Explore", id="explore") as blocks["explore"]:
                explore.build(model, explore_z, explore_cls)
            with gr.Tab("Interpolate", id="interpolate") as blocks["interpolate"]:
                interp.build(model, explore_z, path_state)
            with gr.Tab("Map", id="map") as blocks["map"]:
                map_tab.build(model, explore_z, explore_cls, path_state, current_tab)
            with gr.Tab("Train", id="train") as blocks["train"]:
                train.build(owner_token, model)
        tour.build(model, current_tab)
        flows = Flows(explore, map_tab)
        # one name space for the handlers that span tabs
        p = Parts(current_tab=current_tab, visited=visited, explore_intro=explore.parts["intro"],
                  train_intro=train.parts["intro"])
        p.add(**{name: explore.parts[name] for name in explore.parts.names()})      # Explore's names as they are
        for prefix, tab in (("interp", interp), ("map", map_tab)):
            p.add(**{f"{prefix}.{name}": tab.parts[name] for name in tab.parts.names()})
        switch = event(p, app.switch_model, ["model", "seed", "temperature"], app.outputs(), errors_to="image")

        flows.after_model_set(model.input(**switch))
        flows.after_model_set(picker.upload_event.then(**switch))
        flows.after_model_set(explore.parts["apply_recipe"].click(**event(p, app.apply_recipe, ["recipe"], app.outputs())))
        # undo: every picture's recipe is remembered; the button (or Ctrl+Z) opens the one before
        p.add(history=gr.State([]))
        explore.parts["recipe"].change(**event(p, app.remember, ["history", "recipe"], ["history"], trigger_mode="always_last"))
        flows.after_model_set(explore.parts["undo"].click(**event(p, app.undo, ["history"], [*app.outputs(), "history"])))
        tour.wire(picker.tour_button, lambda dep: flows.after_model_set(dep.then(**switch)).then(**interp.run_event))

        # the Map sends its selected dot to Explore, or to one end of the interpolation (each end its own)
        flows.after_explore_change(map_tab.parts["to_explore"].click(
            **event(p, app.open_in_explore, ["model", "map.selection", "layers"], [*POINT, "current_tab"])))
        for button, which in ((map_tab.parts["as_start"], "start"), (map_tab.parts["as_end"], "end")):
            button.click(**event(p, app.map_dot_as(which), ["interp.map_ends", "map.selection"],
                                 ["interp.map_ends", "interp.src_a", "interp.src_b", "current_tab"]))

        opened = {tab: block.select(fn=None, js=assets.js("tab_opened.js", tab=tab), outputs=[current_tab])   # and the address
                  for tab, block in blocks.items()}
        opened["map"].then(**map_tab.refresh_event)
        opened["train"].then(**train.refresh_event)               # a reloaded page sees the run still going

        demo.load(**train.heartbeat_event)      # first and on its own: a reloaded training owner's page is back at once
        loaded = demo.load(**event(p, app.load_view, ["visited"],
                                   [*app.outputs(), "current_tab", "explore_intro", "train_intro", "visited"]))
        flows.after_model_set(loaded.then(fn=None, js=VIEW_OPENED_JS)).then(**train.refresh_event)
    demo.recipe_png = recipe_png(ws)      # GET /le/picture: the dragged slider's pictures (server.py serves it)
    demo.train_session = session          # POST /le/leave: the training owner's page closes (server.py serves it)
    return demo
