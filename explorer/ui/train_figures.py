"""What the Train tab draws: the 2-D game (plotly JSON), the curves, and the readout cards."""
from __future__ import annotations

import html

import numpy as np

from explorer.core.imaging import png_data_url
from explorer.live.toy_view import EXTENT
from explorer.live.verdict import game_verdict
from explorer.ui import texts
from explorer.ui.widgets import rendering

REAL, FAKE, ARROW = "#111111", "#ff7f0e", "#7a1020"
# the 2-D game's switchable layers (as in GAN Lab): key -> what the switch says; real data and fakes always show
LAYERS = {"field": "Inspector's verdict (background)", "mesh": "Noise mesh", "arrows": "Push on the fakes (arrows)"}


def _axes(layout: dict) -> dict:
    layout.update({"xaxis": {"range": [-EXTENT, EXTENT], "zeroline": False, "constrain": "domain"},
                   "yaxis": {"range": [-EXTENT, EXTENT], "scaleanchor": "x", "zeroline": False},
                   "legend": {"orientation": "h", "y": -0.06}, "margin": {"l": 30, "r": 10, "t": 10, "b": 20},
                   "height": 470, "uirevision": "toy"})
    return layout


def preview_figure(preview: dict, dataset: str) -> dict:
    """Before Start: only the real data, so the presenter can say what the forger must learn."""
    real = preview["real"]
    data = [{"type": "scatter", "mode": "markers", "x": real[:, 0].tolist(), "y": real[:, 1].tolist(),
             "name": f"real data ({dataset})", "marker": {"size": 4, "color": REAL}, "hoverinfo": "skip"}]
    return {"data": data, "layout": _axes({"annotations": [{"text": "Press Start: the forger's fakes will appear here",
                                                            "xref": "paper", "yref": "paper", "x": 0.5, "y": 1.0,
                                                            "showarrow": False, "font": {"size": 14}}]})}


def toy_figure(f: dict, layers=tuple(LAYERS)) -> dict:
    """The 2-D game's figure, with only the switchable `layers` (keys of LAYERS) that are on."""
    layers = set(LAYERS if layers is None else layers)
    ticks = f["ticks"].tolist()
    heat = f["heat"]
    if f["wgan"]:
        heat = (heat - heat.mean()) / (np.abs(heat).max() + 1e-8) * 0.5 + 0.5      # critic scores, centred
    field = [{"type": "heatmap", "x": ticks, "y": ticks, "z": np.round(heat, 3).tolist(), "zmin": 0, "zmax": 1,
             "colorscale": "RdBu", "reversescale": True, "zsmooth": "best", "opacity": 0.55, "showscale": True, "hoverinfo": "skip",
             "colorbar": {"title": {"text": "critic" if f["wgan"] else "D(x)"}, "len": 0.6,
                          "tickvals": [0, 0.5, 1], "ticktext": ["fake", "½", "real"]}}]
    data = field if "field" in layers else []
    mesh = f["mesh"]
    lines_x, lines_y = [], []
    for grid in (mesh, mesh.transpose(1, 0, 2)):
        for row in grid:
            lines_x += row[:, 0].tolist() + [None]
            lines_y += row[:, 1].tolist() + [None]
    if "mesh" in layers:
        data.append({"type": "scatter", "mode": "lines", "x": lines_x, "y": lines_y, "name": "noise mesh",
                     "line": {"color": "rgba(90,90,90,0.45)", "width": 1}, "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "x": f["real"][:, 0].tolist(), "y": f["real"][:, 1].tolist(),
                 "name": "real data", "marker": {"size": 4, "color": REAL}, "hoverinfo": "skip"})
    data.append({"type": "scatter", "mode": "markers", "x": f["fake"][:, 0].tolist(), "y": f["fake"][:, 1].tolist(),
                 "name": "fakes G(z)", "marker": {"size": 5, "color": FAKE}, "hoverinfo": "skip"})
    if "arrows" in f and "arrows" in layers:
        data += _arrows(f["fake"][::4], f["arrows"][::4])
    return {"data": data, "layout": _axes({})}


def _arrows(starts: np.ndarray, push: np.ndarray) -> list[dict]:
    """Where the forger's next update moves each fake: a visible shaft and an arrow head. Lengths are
    compressed (square root) so weak pushes still show a direction next to strong ones."""
    n = np.linalg.norm(push, axis=1, keepdims=True)
    length = 0.12 + 0.28 * np.sqrt(n / (n.max() + 1e-12))
    d = push / (n + 1e-12) * length
    ends = starts + d
    xs, ys = [], []
    for (x, y), (ex, ey) in zip(starts, ends):
        xs += [float(x), float(ex), None]
        ys += [float(y), float(ey), None]
    angles = (90 - np.degrees(np.arctan2(d[:, 1], d[:, 0]))).tolist()     # plotly: 0 = up, clockwise
    return [{"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": "push on fakes",
             "line": {"color": ARROW, "width": 2}, "hoverinfo": "skip", "legendgroup": "push"},
            {"type": "scatter", "mode": "markers", "x": ends[:, 0].tolist(), "y": ends[:, 1].tolist(), "showlegend": False,
             "marker": {"symbol": "triangle-up", "size": 8, "angle": angles, "color": ARROW}, "hoverinfo": "skip",
             "legendgroup": "push"}]


def curves_figure(history: list[dict], wgan: bool, vae: bool) -> dict:
    steps = [h["step"] for h in history]
    series = ([("loss", "loss (negative ELBO)"), ("recon", "reconstruction"), ("kl", "KL")] if vae else
              [("critic_real", "critic on real"), ("critic_fake", "critic on fakes")] if wgan else
              [("d_real", "D(x): inspector on real"), ("d_fake", "D(G(z)): inspector on fakes")])
    data = [{"type": "scatter", "mode": "lines", "x": steps, "y": [h.get(k) for h in history], "name": name}
            for k, name in series]
    if not vae:
        data += [{"type": "scatter", "mode": "lines", "x": steps, "y": [h.get(k) for h in history], "name": n, "yaxis": "y2",
                  "line": {"dash": "dot"}} for k, n in (("loss_d", "inspector loss"), ("loss_g", "forger loss"))]
    shapes = [] if (vae or wgan) else [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.5, "y1": 0.5,
                                        "line": {"dash": "dash", "color": "#888"}}]
    layout = {"height": 260, "margin": {"l": 40, "r": 40, "t": 10, "b": 30}, "uirevision": "curves", "shapes": shapes,
              "xaxis": {"title": {"text": "step"}}, "legend": {"orientation": "h", "y": -0.3},
              "yaxis": {"title": {"text": "loss" if vae else ("critic score" if wgan else "probability 'real'")}},
              "yaxis2": {"overlaying": "y", "side": "right", "title": {"text": "loss"}, "showgrid": False}}
    return {"data": data, "layout": layout}


def class_grid_picture(tiles: np.ndarray, rows, width: int = 300, caption: str = "", side: int = 28) -> str:
    """A class-conditional run's grid (one tile row per class, `rows` its class names) with each class
    name at the start of its row. Names come from data or checkpoints: escaped."""
    height = round(width * tiles.shape[0] / tiles.shape[1])
    pad = 2 * height / tiles.shape[0]            # image_grid's 2-pixel border, on screen
    labels = "".join(f'<span style="flex:1;display:flex;align-items:center;justify-content:flex-end;'
                     f'white-space:nowrap">{html.escape(name)}</span>' for name in rows)
    cap = f'<figcaption>{html.escape(caption)}</figcaption>' if caption else ""
    alt = "rows: " + ", ".join(rows)
    return (f'<figure class="le-picture le-class-grid" style="margin:0;text-align:center">'
            f'<div style="display:flex;justify-content:center;gap:6px">'
            f'<div class="le-row-labels" style="display:flex;flex-direction:column;height:{height}px;'
            f'padding:{pad:.1f}px 0;box-sizing:border-box;font-size:12px;text-align:right">{labels}</div>'
            f'<img src="{png_data_url(tiles)}" width="{width}" height="{height}" alt="{html.escape(alt)}" '
            f'class="{rendering(side)}" style="width:{width}px;height:{height}px;background:#000"/></div>{cap}</figure>')


def _rate(per_s: float) -> str:
    """Steps a second in as many digits as say something: a 64-px run on a CPU makes well under one (0.4, not 0)."""
    return f"{per_s:.0f}" if per_s >= 10 else f"{per_s:.1f}" if per_s >= 0.1 else f"{per_s:.2f}"


def _fast_note(status: str) -> str:
    """Only on GPUs: whether each step runs as one captured CUDA graph (and why not, if not)."""
    if status == "CUDA graph":
        return " · each step one CUDA graph"
    return f" · fast path: {status}" if status.startswith(("CUDA", "eager (CUDA graph capture")) else ""


def _card(label: str, value: str, tone: str = "") -> str:
    return (f'<div class="le-card {tone}"><div class="le-card-label">{html.escape(label)}</div>'
            f'<div class="le-card-value">{html.escape(value)}</div></div>')


def latest_with(history, key: str) -> dict | None:
    """The most recent record that holds `key` (the quality probe's figures are in one record in many)."""
    for rec in reversed(history):
        if key in rec:
            return rec
    return None


def readout(status: dict, frame: dict | None = None) -> str:
    """Cards for the run: state, speed, D(x), D(G(z)), losses, quality; plus the game's state in words."""
    state = status["state"]
    if state == "idle" or status["kind"] is None:
        return '<div class="le-readout le-info">Nothing is training yet. Choose settings and press Start.</div>'
    last = status["history"][-1] if status["history"] else {}
    owner = "yours" if status["mine"] else "started by another visitor"
    cards = [_card("State", f"{state} ({owner})", "le-warn" if state == "diverged" else ""),
             _card("Step", f"{status['step']:,}"),
             _card("Speed", f"{_rate(status['steps_per_s'])} steps/s" + _fast_note(status.get("fast_path", "off")))]
    frame = frame or {}
    d_real, d_fake = frame.get("d_real", last.get("d_real")), frame.get("d_fake", last.get("d_fake"))
    if d_real is not None and d_fake is not None and not frame.get("wgan"):
        cards += [_card("D(x): inspector on real", f"{d_real:.2f}"), _card("D(G(z)): inspector on fakes", f"{d_fake:.2f}")]
    for key, name in (("critic_real", "critic on real"), ("critic_fake", "critic on fakes"), ("loss", "VAE loss")):
        if key in last:
            cards.append(_card(name, f"{last[key]:.2f}"))
    # the quality probe runs every few hundred steps: its latest figures stay on screen, with their step
    for key, name in (("fd_fast", "FD (500 pictures, lower is better)"), ("coverage", "class coverage (1 = all)"),
                      ("class_match", "drawn as the class asked for (1 = always)")):
        probed = latest_with(status["history"], key)
        if probed is not None:
            cards.append(_card(f"{name}, at step {probed['step']:,}", f"{probed[key]:.2f}"))
    cov = frame.get("coverage")
    if cov:
        cards.append(_card("Clusters with fakes", f"{cov[0]} of {cov[1]}"))
    fit = frame.get("fit")
    if fit:
        cards.append(_card("Real data covered by fakes", f"{fit[1]:.0%}"))
    verdict = ""
    if status["kind"] == "toy_gan" and frame:
        # the view's own verdict: judged over the last frames and held before it changes (live/verdict.py)
        label, sentence = frame.get("verdict") or game_verdict(status["step"], d_real, d_fake, cov,
                                                               frame.get("coverage_history", []), bool(frame.get("wgan")))
        tone = "le-warn" if label in ("mode collapse", "the inspector is winning") else ""
        verdict = f'<p class="le-verdict {tone}"><b>{html.escape(label.capitalize())}.</b> {html.escape(sentence)}</p>'
    where = f'<p class="le-where">Runs {html.escape(status.get("where", ""))}: {html.escape(status["description"])}.</p>'
    if not status["mine"] and state != "stopped":
        where += f'<p class="le-where">{html.escape(texts.TRAIN_OTHERS_RUN)}</p>'
    msg = f'<p class="le-{status.get("message_kind", "error")}">{html.escape(status["message"])}</p>' if status["message"] else ""
    if status.get("left") and state == "stopped":
        left = texts.TRAIN_YOU_LEFT.format(step=status["step"]) if status["mine"] else status["left"]
        msg += f'<p class="le-info">{html.escape(left)}</p>'
    return f'<div class="le-readout">{msg}{verdict}<div class="le-cards">{"".join(cards)}</div>{where}</div>'
