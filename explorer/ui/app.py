"""The Gradio app: model picker on top, Explore / Interpolate / Map tabs, named API endpoints."""
from __future__ import annotations

import gradio as gr

from explorer.core.checkpoints import CHECKPOINT_DIR
from explorer.explore.workspace import Workspace
from explorer.live.session import TrainingSession
from explorer.ui import api, texts
from explorer.ui.explore_tab import ExploreTab
from explorer.ui.interpolate_tab import InterpolateTab
from explorer.ui.map_tab import MapTab
from explorer.ui.picker import Picker, choices
from explorer.ui.train_tab import TrainTab

# elem_id -> tooltip key: every control gets a hover tooltip (buttons have no `info` line in Gradio)
TOOLTIP_IDS = {
    "model-picker": "model", "model-upload": "upload", "explore-seed": "seed", "explore-surprise": "surprise",
    "explore-temperature": "temperature", "explore-direction": "direction", "explore-amount": "amount",
    "explore-reset": "reset", "explore-recipe": "recipe", "explore-apply-recipe": "recipe", "explore-raw": "raw",
    "explore-apply-raw": "raw", "explore-strip-dir": "strip", "interp-frames": "frames", "interp-src-a": "endpoint",
    "interp-src-b": "endpoint", "interp-val-a": "endpoint_value", "interp-val-b": "endpoint_value",
    "interp-run": "interpolate", "map-to-explore": "to_explore", "map-as-start": "as_endpoint", "map-as-end": "as_endpoint",
    **{f"explore-slider-{i}": "slider" for i in range(10)},
}


def tooltip_js() -> str:
    """Page script that puts each control's plain-words tip in its title attribute (hover tooltip)."""
    import json
    tips = {eid: texts.TIPS[key] for eid, key in TOOLTIP_IDS.items()}
    return ("() => { const tips = " + json.dumps(tips) + ";"
            " const apply = () => { for (const [id, tip] of Object.entries(tips)) {"
            " const el = document.getElementById(id); if (el && !el.title) el.title = tip; } };"
            " apply(); new MutationObserver(apply).observe(document.body, {childList: true, subtree: true}); }")


def build_app(ws: Workspace, default_model: str, session: TrainingSession | None = None) -> gr.Blocks:
    session = session or TrainingSession(ws.registry.device, ws.registry.folder,
                                         classifier_folders=(ws.registry.folder, CHECKPOINT_DIR), gate=ws.gate)
    explore, interp, map_tab = ExploreTab(ws), InterpolateTab(ws), MapTab(ws)
    train = TrainTab(session)
    with gr.Blocks(title=texts.TITLE) as demo:
        gr.Markdown(f"# {texts.TITLE}\n{texts.TAGLINE}")
        api.register(ws, session)        # first, so the public endpoints keep their plain names
        picker = Picker(ws, default_model)
        model, _ = picker.build()
        owner_token = gr.BrowserState("", storage_key="latent-explorer-train-owner")
        explore_z = gr.State([])        # the latent shown in Explore (per session)
        map_z = gr.State(None)          # the latent of the selected map dot
        path_state = gr.State(None)     # the last interpolation paths, drawn on the map
        with gr.Tabs() as tabs:
            with gr.Tab("Explore", id="explore"):
                explore.build(model, explore_z)
            with gr.Tab("Interpolate", id="interpolate"):
                interp.build(model, explore_z, map_z, path_state)
            with gr.Tab("Map", id="map") as map_tab_block:
                map_tab.build(model, explore_z, path_state, map_z)
            with gr.Tab("Train", id="train") as train_tab_block:
                train.build(owner_token, model, lambda: choices(ws))

        def open_in_explore(name, z):
            if not z:
                gr.Warning("Click a dot on the map first.")
                return [gr.update()] * (3 + len(explore.sliders)) + [gr.Tabs()]
            return explore.apply_raw(name, ", ".join(str(v) for v in z)) + [gr.Tabs(selected="explore")]

        def use_as(_z):
            return gr.update(value="Selected map dot"), gr.Tabs(selected="interpolate")

        map_tab.to_explore.click(open_in_explore, [model, map_z],
                                 [explore.base, explore.direction, explore.amount, *explore.sliders, tabs],
                                 api_visibility="private").then(**explore.fast).then(**explore.extras_event)
        map_tab.as_start.click(use_as, map_z, [interp.src_a, tabs], api_visibility="private")
        map_tab.as_end.click(use_as, map_z, [interp.src_b, tabs], api_visibility="private")

        # a model switch (or the page opening) refreshes every tab
        for trigger in (model.change, demo.load):
            trigger(**explore.model_refresh).then(**explore.fast).then(**explore.extras_event).then(**map_tab.refresh_event)
        map_tab_block.select(**map_tab.refresh_event)
        train_tab_block.select(**train.refresh_event)      # a reloaded page sees the run still going
        demo.load(**train.refresh_event)
    return demo
