"""Map tab: a plotly scatter of the 2-D map of a model's latent space, clickable.

gr.Plot has no click event in Gradio 6, so the scatter lives in a gr.HTML whose small script
draws it with plotly.js (served locally from the plotly package, no CDN), shows a hovered
point's picture (fetched through a server function), and on click triggers an event carrying
the point's index. Whatever the browser sends is validated by Workspace.map_item.
"""
from __future__ import annotations

import functools
from types import SimpleNamespace

import gradio as gr
import numpy as np

from explorer.core.imaging import png_data_url
from explorer.core.validation import UserError, check_int
from explorer.explore.workspace import Workspace
from explorer.maps.search import find_dots, nearest_dots
from explorer.ui import assets, texts, widgets
from explorer.ui.plotly_html import PLOTLY_HEAD, figure_value
from explorer.ui.wiring import Parts, event

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

MAP_TEMPLATE, MAP_JS = assets.html("map.html"), assets.js("figure_of.js", "map.js")


def _fits(m, z) -> bool:
    """Overlays from another model (a latent of the wrong length) are left out, not an error."""
    arr = np.asarray(z, np.float32) if z is not None else None
    return arr is not None and arr.size > 0 and arr.shape[-1] == m.latent_dim


def figure(ws: Workspace, name: str, explore_z=None, path=None, selected: dict | None = None, explore_cls=None,
           start: bool = True) -> dict:
    """Plotly figure (as plain JSON-able dicts) for the model's map, with the overlays placed (a
    conditional model's Explore picture and paths are placed as drawn in class `explore_cls`);
    {} while the map is not ready (`start`: begin computing it if it is not)."""
    m = ws.model(name)
    lm = ws.map(name, start=start)
    if lm is None:
        return {}
    traces = []
    names = lm.class_names or ["points"]
    labels = lm.labels if lm.class_names else np.zeros(len(lm.labels), np.int64)
    for c, cname in enumerate(names):
        idx = np.nonzero(labels == c)[0]
        if not len(idx):
            continue
        # class names come from the checkpoint: plotly renders some HTML in names and hover text
        label = widgets.plot_text(widgets.shorten(cname, 40))
        traces.append({"type": "scattergl", "mode": "markers", "name": label, "customdata": idx.tolist(),
                       "x": np.round(lm.embedding[idx, 0], 3).tolist(), "y": np.round(lm.embedding[idx, 1], 3).tolist(),
                       "marker": {"size": 4, "color": PALETTE[c % len(PALETTE)], "opacity": 0.7},
                       "hovertemplate": f"{label} #%{{customdata}}<extra></extra>"})
    cls = explore_cls if m.num_classes else None
    if path and _fits(m, path.get("spherical")):
        named = path.get("names") or ("linear path", "spherical path")        # a style-based model's: W and Z
        for (key, dash), label in zip((("linear", "dot"), ("spherical", "solid")), named):
            xy = ws.place_on_map(name, np.asarray(path[key], np.float32), m.check_class(path.get("class")) if m.num_classes else None)
            traces.append({"type": "scatter", "mode": "lines+markers", "name": widgets.plot_text(str(label)),
                           "x": xy[:, 0].tolist(),
                           "y": xy[:, 1].tolist(), "line": {"color": "#111", "dash": dash, "width": 2},
                           "marker": {"size": 5}, "hoverinfo": "skip"})
    if selected and selected.get("model") == name and 0 <= selected.get("index", -1) < len(lm.embedding):
        x, y = lm.embedding[selected["index"]]
        traces.append({"type": "scatter", "mode": "markers", "name": "selected dot", "x": [float(x)], "y": [float(y)],
                       "hoverinfo": "skip", "marker": {"size": 20, "symbol": "circle-open", "color": "#e8a200",
                                                       "line": {"width": 4, "color": "#e8a200"}}})
    if _fits(m, explore_z):
        xy = ws.place_on_map(name, np.asarray(explore_z, np.float32)[None], m.check_class(cls))
        traces.append({"type": "scatter", "mode": "markers", "name": "Explore picture", "x": xy[:, 0].tolist(),
                       "y": xy[:, 1].tolist(), "hoverinfo": "skip",
                       "marker": {"size": 18, "symbol": "star", "color": "#ffd400", "line": {"color": "#000", "width": 1.5}}})
    layout = {"height": 480, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "hovermode": "closest",
              "xaxis": {"visible": False}, "yaxis": {"visible": False, "scaleanchor": "x"},
              "legend": {"itemsizing": "constant", "title": {"text": "Class (double-click to isolate)"}},
              "plot_bgcolor": "#fafafa", "uirevision": name}
    return {"model": name, "data": traces, "layout": layout, "rendering": widgets.rendering(m.family.image_size)}


def note_for(m, points: int) -> str:
    """The one plain sentence under the map: what its `points` dots are for this kind of model."""
    if m.num_classes:
        return texts.MAP_CVAE_NOTE if m.family.map_items == "test-images" else texts.MAP_CGAN_NOTE
    if m.latent_dim == 2:
        return texts.MAP_2D_NOTE
    return texts.MAP_VAE_NOTE.format(n=points) if m.family.map_items == "test-images" else texts.MAP_GAN_NOTE


class MapTab:
    def __init__(self, ws: Workspace):
        self.ws = ws

    def thumbnail(self, model, index) -> str:
        """Server function for the hover picture: a data URL, or '' for anything invalid. Cached, so a
        picture hovered twice is decoded once."""
        try:
            name = str(model)
            i = check_int("A map point index", index, 0, 2**31)
            return self._thumbnail(name, self.ws.model(name).digest, i)
        except UserError:
            return ""

    @functools.lru_cache(maxsize=4096)
    def _thumbnail(self, model: str, digest: str, index: int) -> str:
        """Keyed by the model's content too: a model saved again under the same name shows its new pictures."""
        item = self.ws.map_item(model, index)
        return png_data_url(item["original"] if item["original"] is not None else item["decoded"])

    def refresh(self, model, explore_z, explore_cls, path, selection, tab="map"):
        """The map with its overlays. A map is computed only once someone looks at it (`tab`: the visitor's
        open tab): the other tabs keep the overlays of a ready map up to date and start nothing."""
        m = self.ws.model(model)
        fig = figure(self.ws, model, explore_z, path, selection, explore_cls, start=tab == "map")
        if not fig:
            status = self.ws.map_status(model)
            if status == "not started":
                return {"status": widgets.message(texts.MAP_ON_OPEN, "info"), "timer": gr.Timer(active=False)}
            return {"status": widgets.message(f"Drawing the map… {status}", "info"), "timer": gr.Timer(active=True)}
        points = len(self.ws.map(model, start=False).latents)
        return {"plot": figure_value(fig), "status": widgets.message(note_for(m, points), "info"), "timer": gr.Timer(active=False)}

    def on_model(self, model):
        """A model switch: the old model's map and selection go at once (the new map is drawn when ready)."""
        return {"selection": None, "selected": widgets.message("Click a dot to select it.", "info"), "selected_text": "",
                "plot": figure_value({}), "status": widgets.message(f"The map of {model} is on its way…", "info")}

    def select(self, evt, model):
        item = self.ws.map_item(model, getattr(evt, "index", None))
        pics = []
        if item["original"] is not None:
            pics.append(widgets.picture(item["original"], 120, "the test picture"))
        pics.append(widgets.picture(item["decoded"], 120, "what the model draws from its latent"))
        label = f"· {widgets.escape(widgets.shorten(item['label'], 60))}" if item["label"] else ""   # from the checkpoint
        head = f"<p><b>Dot #{item['index']}</b> {label}</p>"
        body = head + '<div style="display:flex;gap:8px;flex-wrap:wrap">' + "".join(pics) + "</div>" + self.neighbours(model, item["index"])
        selection = {"model": model, "index": item["index"], "label": item["label"], "latent": item["latent"].tolist(),
                     "class": item["class"]}
        return {"selected": body, "selected_text": f"Selected dot #{item['index']}", "selection": selection}

    def neighbours(self, model, index: int) -> str:
        """The selected dot's nearest dots (by what the map was laid out from), small, with their numbers."""
        lm = self.ws.map(model, start=False)
        if lm is None or len(lm.latents) < 2:
            return ""
        near = nearest_dots(lm, index)
        cls = None if lm.classes is None else lm.classes[near]
        pics = self.ws.model(model).decode(lm.latents[near], cls)
        # each a button that finds its dot (static/page.js types its number into Find): numbers are the map's own
        cells = "".join(f'<button type="button" class="le-dot" data-dot="{int(i)}" title="Go to dot #{int(i)}">'
                        f'{widgets.picture(im, 48, f"#{int(i)}", "le-cell")}</button>' for im, i in zip(pics, near))
        return (f'<p style="margin:6px 0 2px">Nearest dots (click one to go there):</p>'
                f'<div class="le-neighbours" style="display:flex;gap:4px;flex-wrap:wrap;font-size:11px">{cells}</div>')

    def find(self, model, query, selection):
        """Find a dot by its number or its class (again: the next dot of that class), and select it."""
        lm = self.ws.map(model, start=False)
        if lm is None:
            raise UserError(f"The map of {model} is still being computed; try again in a moment.")
        dots, what = find_dots(lm, query)
        current = (selection or {}).get("index") if (selection or {}).get("model") == model else None
        i = dots[(dots.index(current) + 1) % len(dots)] if current in dots and what != "number" else dots[0]
        out = self.select(SimpleNamespace(index=i), model)
        if what != "number":
            note = f"{len(dots)} dots are {what}; this is #{i} (Find again for the next)."
            out["selected"] = widgets.message(note, "info") + out["selected"]
        return out

    def build(self, model, explore_z, explore_cls, path_state, current_tab):
        def thumbnail(query):  # a server function: a plain function of one argument, here [model, index]
            if isinstance(query, (list, tuple)) and len(query) == 1 and isinstance(query[0], (list, tuple)):
                query = query[0]
            if not isinstance(query, (list, tuple)) or len(query) != 2:
                return ""
            return self.thumbnail(query[0], query[1])

        p = self.parts = Parts(model=model, explore_z=explore_z, explore_cls=explore_cls, path=path_state,
                               tab=current_tab, selection=gr.State(None))      # {model, index, label, latent, class} of the clicked dot
        p.add(status=gr.HTML(elem_id="map-status"))
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                p.add(plot=gr.HTML(value=figure_value({}), html_template=MAP_TEMPLATE, js_on_load=MAP_JS, elem_id="map-plot",
                                   head=PLOTLY_HEAD, server_functions=[thumbnail]))
            with gr.Column(scale=1, min_width=260):
                with gr.Row(elem_classes="le-compact"):
                    p.add(query=gr.Textbox(label="Find a dot: its number or a class", placeholder="e.g. 42 or Sneaker",
                                           elem_id="map-find", scale=3, min_width=120),
                          find=gr.Button("Find", elem_id="map-find-go", scale=1, min_width=60))
                p.add(selected=gr.HTML(widgets.message("Click a dot to select it.", "info"), elem_id="map-selected"),
                      selected_text=gr.Textbox(label="Selection", interactive=False, elem_id="map-selected-text"),
                      to_explore=gr.Button("Open in Explore", elem_id="map-to-explore"),
                      as_start=gr.Button("Use as interpolation start", size="sm", elem_id="map-as-start"),
                      as_end=gr.Button("Use as interpolation end", size="sm", elem_id="map-as-end"))
                with gr.Accordion("What am I looking at?", open=False):
                    gr.Markdown(texts.MAP)
        p.add(timer=gr.Timer(2.0, active=False))
        self.refresh_event = event(p, self.refresh, ["model", "explore_z", "explore_cls", "path", "selection", "tab"],
                                   ["plot", "status", "timer"], errors_to="status",
                                   on_error={"timer": gr.update(active=False)})
        p["timer"].tick(**self.refresh_event)
        p["plot"].click(**event(p, self.select, ["model"], ["selected", "selected_text", "selection"],
                                errors_to="selected", show_progress="full")).then(**self.refresh_event)
        find = event(p, self.find, ["model", "query", "selection"], ["selected", "selected_text", "selection"],
                     errors_to="selected", show_progress="full")
        for trigger in (p["find"].click, p["query"].submit):
            trigger(**find).then(**self.refresh_event)
        self.model_outputs = ["selection", "selected", "selected_text", "plot", "status"]   # what on_model sets
