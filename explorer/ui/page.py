"""The page's look and its small scripts: theme, CSS, hover tooltips, keyboard shortcuts.

Built for a 1280×720 projector: a one-row header, and on every tab the picture (or plot) in a
sticky column beside the controls that change it, so the effect of a control is always in view.
"""
from __future__ import annotations

import json

import gradio as gr

from explorer.ui import fast_picture, presentation, texts

# elem_id -> tooltip key: every control gets a hover tooltip (buttons have no `info` line in Gradio)
TOOLTIP_IDS = {
    "model-picker": "model", "model-upload": "upload", "show-pixels": "show_pixels", "explore-seed": "seed", "explore-surprise": "surprise",
    "explore-temperature": "temperature", "explore-direction": "direction", "explore-amount": "amount",
    "explore-undo": "undo", "present-toggle": "present",
    "explore-reset": "reset", "explore-class": "class", "interp-class-a": "class", "interp-class-b": "class",
    "explore-recipe": "recipe", "explore-apply-recipe": "recipe", "explore-raw": "raw",
    "explore-apply-raw": "raw", "explore-strip-dir": "strip", "explore-share-link": "share", "interp-frames": "frames",
    "interp-src-a": "endpoint", "interp-src-b": "endpoint", "interp-val-a": "endpoint_value",
    "interp-val-b": "endpoint_value", "interp-run": "interpolate", "map-to-explore": "to_explore",
    "map-as-start": "as_endpoint", "map-as-end": "as_endpoint", "train-pace": "pace", "train-toy-data": "toy_dataset",
    **{f"explore-slider-{i}": "slider" for i in range(10)},
}


def theme() -> gr.themes.Base:
    """One button size and style everywhere, compact spacing, a calm palette that survives a projector."""
    return gr.themes.Soft(primary_hue="blue", secondary_hue="amber", neutral_hue="slate", spacing_size="sm",
                          radius_size="sm", text_size="md").set(button_large_padding="6px 14px",
                                                                 button_small_padding="4px 10px")


CSS = """
/* overflow: hidden on the container makes it a scroll box of its own, which stops every sticky column:
   clip instead keeps the page from scrolling sideways without breaking sticky (the picture stays in view) */
.gradio-container { max-width: 1400px !important; overflow: visible !important; overflow-x: clip !important; }
#le-header { align-items: center; gap: 8px; margin-bottom: 0; }
#le-header .le-title { display: flex; flex-direction: column; line-height: 1.2; }
#le-header .le-title b { font-size: 20px; }
#le-header .le-title span { font-size: 13px; color: var(--body-text-color-subdued); }
#le-header-panels { gap: 8px; }
#le-header-panels > * { flex: 1 1 0; }
.le-sticky { position: sticky; top: 4px; align-self: flex-start; }
/* a phone: the columns stack, and the picture alone stays at the top while the controls scroll under it */
@media (max-width: 720px) {
  .le-sticky { display: contents; }
  #explore-image { position: sticky; top: 0; z-index: 1000; background: var(--background-fill-primary);
                   padding-bottom: 4px; flex: 1 1 100%; }
  #explore-image img { width: min(300px, 30vh) !important; height: min(300px, 30vh) !important; }
}
.le-compact { gap: 6px; }
.le-compact > * { min-width: 0; }
.le-cards { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0; }
.le-card { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 4px 8px; min-width: 110px;
           background: var(--background-fill-secondary); }
.le-card-label { font-size: 11px; color: var(--body-text-color-subdued); }
.le-card-value { font-size: 16px; font-weight: 600; }
.le-card.le-warn, .le-verdict.le-warn { border-color: #c0392b; color: #a02015; }
.le-verdict { margin: 4px 0; font-size: 15px; }
.le-where { font-size: 12px; color: var(--body-text-color-subdued); margin: 2px 0; }
.le-error { color: #b00020; }
.le-readout.le-info { color: var(--body-text-color-subdued); padding: 6px; }
/* The tour panel sits over the header (title, model picker, tabs), which no step is about: each step's
   subject (the picture, sliders, Play/Stop and the D cards, the Map buttons) is below it, and every step
   scrolls the page to the top (page_js), so at 1280x720 the panel never covers what the step talks about.
   Wide and short so it ends above the tab's content; on a phone the header is taller than the panel
   (which drops the keyboard line there). */
#tour-panel { position: fixed; right: 12px; top: 6px; width: min(640px, calc(100vw - 24px)); max-height: 184px;
              overflow-y: auto; z-index: 1000; box-shadow: 0 4px 18px rgba(0,0,0,.25); gap: 4px !important;
              border: 2px solid var(--color-accent); border-radius: 8px; background: var(--background-fill-primary);
              padding: 6px 10px; }
#tour-panel #tour-text p { margin: 2px 0 !important; font-size: 14px; line-height: 1.35; }
#tour-panel .le-tour-row { align-items: center; gap: 6px; flex-wrap: nowrap; }
#tour-panel .le-tour-row button { flex: 0 0 auto; min-width: 70px !important; }
#tour-panel .le-tour-help { font-size: 12px; color: var(--body-text-color-subdued); flex: 1 1 auto; }
#tour-panel .le-tour-help p { margin: 0 !important; }
/* a step about the header itself (the Present button) puts the panel at the bottom, over the lower controls */
#tour-panel.le-tour-low { top: auto; bottom: 12px; }
@media (max-width: 720px) { #tour-panel { max-height: 40vh; } #tour-panel .le-tour-help { display: none; } }
.le-label p { margin: 2px 0 !important; }
/* an empty direction note takes no room (it used to push Direction 1 below a 720-px screen) */
#explore-direction-note { min-height: 0 !important; padding: 0 !important; }
#le-current-tab { display: none !important; }
#explore-direction-note:has(.prose:empty), #explore-direction-note:has(> div:empty) { display: none !important; }
/* upscaling (widgets.rendering): 28-px pictures crisp, 64-px ones smooth; "Show the pixels" (a class on <body>,
   outside the container Gradio scopes these rules to: hence !important) makes all crisp */
img.le-crisp { image-rendering: pixelated; }
img.le-smooth { image-rendering: auto; }
body.le-show-pixels img.le-smooth { image-rendering: pixelated !important; }
#show-pixels { flex: 0 0 150px !important; width: 150px !important; min-width: 150px !important; white-space: nowrap; }
""" + presentation.CSS


def page_js() -> str:
    """Runs once at page load: tooltips on every control, and the keyboard: ← → walk the tour, space
    plays/pauses training on the Train tab (never while typing, and never instead of a focused control)."""
    tips = {eid: texts.TIPS[key] for eid, key in TOOLTIP_IDS.items()}
    return ("() => { " + presentation.JS + fast_picture.JS + " const tips = " + json.dumps(tips) + ";"
            """
  const apply = () => { for (const [id, tip] of Object.entries(tips)) {
      const el = document.getElementById(id); if (el && !el.title) el.title = tip; }
    // the drawing canvas starts with its brush in hand (Gradio's editor otherwise asks to pick a tool first)
    const brush = document.querySelector('#own-draw button[aria-label="Brush"]');
    if (brush && !brush.dataset.leAuto) { brush.dataset.leAuto = '1'; brush.click(); } };
  // "Clear canvas" puts Gradio's brush down: take it up again once the editor has redrawn its tools
  // (checked for a couple of seconds of frames, then left alone)
  document.addEventListener('click', (e) => {
    if (!(e.target.closest && e.target.closest('#own-draw button[aria-label="Clear canvas"]'))) return;
    let frames = 120;
    const again = () => {
      const b = document.querySelector('#own-draw button[aria-label="Brush"]');
      if (b && !b.classList.contains('highlight')) { b.click(); return; }
      if (--frames > 0) requestAnimationFrame(again);
    };
    requestAnimationFrame(again);
  }, true);
  apply(); new MutationObserver(apply).observe(document.body, {childList: true, subtree: true});
  // a tour step starts at the top of its tab, where its subject is laid out below the panel
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#tour-open, #tour-next, #tour-back')) window.scrollTo({top: 0});
  }, true);
  const visible = (id) => { const el = document.getElementById(id); return el && el.getClientRects().length > 0 ? el : null; };
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || '').toLowerCase();
    if (['input', 'textarea', 'select', 'button'].includes(tag) || e.target.isContentEditable) return;
    if (visible('tour-panel') && (e.key === 'ArrowRight' || e.key === 'ArrowLeft')) {
      const b = visible(e.key === 'ArrowRight' ? 'tour-next' : 'tour-back');
      if (b) { b.click(); e.preventDefault(); }
      return;
    }
    if (e.key === ' ') {
      for (const [readout, pause, play] of [['train-toy-readout', 'train-pause', 'train-play'],
                                            ['train-img-readout', 'train-img-pause', 'train-img-play']]) {
        const r = visible(readout);
        if (!r) continue;
        const running = /\\brunning\\b/.test(r.innerText);
        const b = visible(running ? pause : play);
        if (b) { b.click(); e.preventDefault(); }
        return;
      }
    }
  });
}""")
