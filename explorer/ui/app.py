"""The Gradio app: a one-row header with the model picker, the Explore / Interpolate / Map / Train tabs,
the guided tour, and the named API endpoints. This file only wires the tabs to each other.

Per visitor: the current model, the Explore latent, the interpolation ends, the selected map dot (in
Gradio state), the training owner token and "seen the introduction" (in the browser's storage), and
the view itself in the address bar, so a reload or a shared link shows the same picture.
Switching models resets every tab's model-dependent view in one chain of events.
"""
from __future__ import annotations

import gradio as gr

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.explore.workspace import Recipe, Workspace
from explorer.live.session import TrainingSession
from explorer.ui import api, widgets
from explorer.ui.explore_tab import ExploreTab, recipe_from_query
from explorer.ui.interpolate_tab import InterpolateTab
from explorer.ui.map_tab import MapTab
from explorer.ui.picker import Picker, choices
from explorer.ui.texts import TITLE
from explorer.ui.tour import Tour
from explorer.ui.train_tab import TrainTab

TABS = ("explore", "interpolate", "map", "train")
TAB_URL_JS = "() => {{ const u = new URL(window.location.href); u.searchParams.set('tab', '{tab}'); " \
             "window.history.replaceState(null, '', u); }}"


def training_session(ws: Workspace) -> TrainingSession:
    """The one live-training session of a server (the Train tab and the API share it)."""
    return TrainingSession(ws.registry.device, ws.registry.folder,
                           classifier_folders=(ws.registry.folder, CHECKPOINT_DIR), gate=ws.gate)


def build_app(ws: Workspace, default_model: str, session: TrainingSession | None = None) -> gr.Blocks:
    session = session or training_session(ws)
    explore, interp, map_tab = ExploreTab(ws), InterpolateTab(ws), MapTab(ws)
    train, tour = TrainTab(session), Tour(ws.model_names)
    with gr.Blocks(title=TITLE) as demo:
        api.register(ws, session)        # first, so the public endpoints keep their plain names
        picker = Picker(ws, default_model)
        model, _ = picker.build()
        owner_token = gr.BrowserState("", storage_key="latent-explorer-train-owner")
        visited = gr.BrowserState(False, storage_key="latent-explorer-visited")
        explore_z = gr.State(None)       # the latent shown in Explore
        explore_cls = gr.State(None)     # and its class (a class-conditional model), else None
        path_state = gr.State(None)      # the last interpolation paths, drawn on the map
        with gr.Tabs() as tabs:
            blocks = {}
            with gr.Tab("Explore", id="explore") as blocks["explore"]:
                explore.build(model, explore_z, explore_cls)
            with gr.Tab("Interpolate", id="interpolate") as blocks["interpolate"]:
                interp.build(model, explore_z, path_state)
            with gr.Tab("Map", id="map") as blocks["map"]:
                map_tab.build(model, explore_z, explore_cls, path_state)
            with gr.Tab("Train", id="train") as blocks["train"]:
                train.build(owner_token, model, lambda: choices(ws))
        tour.build(tabs, model)
        private = dict(api_visibility="private", show_progress="hidden")

        def show_all(dep):
            """After the Explore controls changed: its picture, strip and link, then the map's overlays."""
            return (dep.then(**explore.fast).then(**explore.extras_event).then(**explore.share_event)
                    .then(**map_tab.refresh_event))

        def other_tabs(dep):
            return dep.then(**interp.model_refresh).then(**map_tab.model_refresh)

        def switch_model(dep):
            """A new model: every tab's model-dependent view is reset, then redrawn."""
            return show_all(other_tabs(dep.then(**explore.model_refresh)))

        show_all(other_tabs(model.input(**explore.model_refresh)))
        switch_model(picker.upload_event)
        show_all(other_tabs(explore.apply_recipe_button.click(explore.apply_recipe, explore.recipe_box,
                                                                 explore.all_controls, **private)))
        tour.wire(picker.tour_button, lambda dep: switch_model(dep).then(**interp.run_event))

        # the Map sends its selected dot to Explore, or to one end of the interpolation (each end its own)
        def open_in_explore(name, selection):
            if not selection:
                widgets.warn("Click a dot on the map first.")
                return {tabs: gr.Tabs()}
            return {**explore.use_latent(name, selection["latent"], cls=selection.get("class")),
                    tabs: gr.Tabs(selected="explore")}
        show_all(map_tab.to_explore.click(open_in_explore, [model, map_tab.selection], [*explore.slider_outs, tabs], **private))
        for button, which in ((map_tab.as_start, "start"), (map_tab.as_end, "end")):
            button.click(lambda ends, sel, w=which: {**interp.take_map_dot(w, ends, sel), tabs: gr.Tabs(selected="interpolate")},
                         [interp.map_ends, map_tab.selection], [interp.map_ends, interp.src_a, interp.src_b, tabs], **private)

        for tab, block in blocks.items():
            block.select(fn=None, js=TAB_URL_JS.format(tab=tab))      # the address bar remembers the tab
        blocks["map"].select(**map_tab.refresh_event)
        blocks["train"].select(**train.refresh_event)             # a reloaded page sees the run still going

        def load_view(seen, request: gr.Request):
            """A page opens: the view in its address (a shared link or a reload), else the default model's seed 0;
            the explanations are open on a first visit only."""
            params = dict(request.query_params) if request is not None else {}
            r = recipe_from_query(params)
            out = {}
            if r is not None and r.model in ws.model_names():
                try:
                    out = explore.state_for(r)
                except Exception:                   # noqa: BLE001 - a broken link opens the default view
                    out = {}
            if not out:
                out = explore.state_for(Recipe(default_model))
            out[model] = gr.update(choices=choices(ws), value=out[model])    # models saved since the page was built
            tab = params.get("tab") if params.get("tab") in TABS else "explore"
            return {**out, tabs: gr.Tabs(selected=tab), explore.intro: gr.Accordion(open=not seen),
                    train.intro: gr.Accordion(open=not seen), visited: True}

        loaded = demo.load(load_view, visited, [*explore.all_controls, tabs, explore.intro, train.intro, visited], **private)
        show_all(other_tabs(loaded)).then(**train.refresh_event)
    return demo
