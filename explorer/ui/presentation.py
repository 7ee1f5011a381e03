"""Presentation mode and the page's keyboard shortcuts for a presenter.

One key (P) or the header's "Present" button turns the open tab into a projector view: the picture
as large as the screen allows (upscaled smoothly; "Pixels" shows the model's own pixels), only the
few controls that matter beside it, and text large enough for the back row. Esc (or the button
again) leaves it; the choice survives a reload (the browser's local storage).

Keys, never while typing in a box and never with Ctrl/Alt held (except Ctrl+Z):
  P        presentation mode on/off          Esc     leave presentation mode
  ← →      previous / next seed (Explore; while the tour panel is open they walk the tour instead)
  1 … 9    open the first … ninth tab         Ctrl+Z  undo the last change on the Explore tab
  space    play/pause (Train: explorer/ui/page.py)

Everything here is fixed text and CSS: no string from outside reaches the page through this file.
"""
from __future__ import annotations

import gradio as gr

PRESENT_BUTTON_ID = "present-toggle"
TOGGLE_JS = "() => { if (window.leTogglePresent) window.leTogglePresent(); }"


def present_button() -> gr.Button:
    """The header's "Present" button (its click runs in the browser only)."""
    button = gr.Button("Present (P)", elem_id=PRESENT_BUTTON_ID, scale=0, min_width=130)
    button.click(fn=None, js=TOGGLE_JS)
    return button


# Everything below `body.le-present`; `le-pixels` asks for the model's own pixels instead of smooth upscaling.
CSS = """
body.le-present .gradio-container { max-width: 100% !important; padding: 4px 12px !important;
  --text-xxs: 13px; --text-xs: 15px; --text-sm: 17px; --text-md: 20px; --text-lg: 24px; --text-xl: 28px;
  --block-label-text-size: 18px; --block-info-text-size: 16px; --block-title-text-size: 18px;
  --input-text-size: 20px; --button-large-text-size: 20px; --button-small-text-size: 17px;
  --section-header-text-size: 20px; font-size: 20px; }
/* the header: the presentation bar where the title was, then the model picker, Tour and Present */
body.le-present #le-header > *:has(.le-title) { display: none !important; }
body.le-present #le-header { padding-left: 400px; min-height: 64px; }
body.le-present #le-header-panels,
body.le-present #explore-intro, body.le-present #explore-share, body.le-present #explore-raw-panel,
body.le-present #own-picture, body.le-present #explore-strip-dir, body.le-present #explore-strip,
body.le-present #explore-manifold, body.le-present #explore-conditional-note, body.le-present #train-intro,
body.le-present #explore-slider-3, body.le-present #explore-slider-4, body.le-present #explore-slider-5,
body.le-present #explore-slider-6, body.le-present #explore-slider-7, body.le-present #explore-slider-8,
body.le-present #explore-slider-9 { display: none !important; }
/* the picture: as large as the screen allows beside its controls */
body.le-present .le-sticky:has(#explore-image) { flex: 0 0 auto !important; width: auto !important; max-width: 54vw; }
body.le-present #explore-image img { width: min(calc(100vh - 175px), 52vw) !important;
  height: min(calc(100vh - 175px), 52vw) !important; image-rendering: auto !important; }
body.le-present.le-pixels #explore-image img, body.le-present.le-pixels #interp-linear img,
body.le-present.le-pixels #interp-spherical img, body.le-present.le-pixels #train-grid img,
body.le-present.le-pixels #interp-gif img { image-rendering: pixelated !important; }
body.le-present #interp-linear img, body.le-present #interp-spherical img { width: min(12vw, 140px) !important;
  height: min(12vw, 140px) !important; image-rendering: auto !important; }
body.le-present #interp-gif img { height: min(40vh, 360px) !important; image-rendering: auto; }
body.le-present #interp-gif { height: auto !important; }
body.le-present #train-grid img { width: 100% !important; height: auto !important; max-height: calc(100vh - 170px);
  object-fit: contain; image-rendering: auto; }
body.le-present #map-plot .le-map { height: max(480px, calc(100vh - 250px)) !important; }
body.le-present #tour-open { min-width: 110px !important; }
body.le-present .le-card-value { font-size: 26px; }
body.le-present .le-card-label { font-size: 16px; }
body.le-present .le-verdict { font-size: 22px; }
#le-present-bar { display: none; }
body.le-present #le-present-bar { display: flex; flex-wrap: wrap; width: 384px; box-sizing: border-box;
  position: fixed; top: 6px; left: 8px; z-index: 1001; gap: 6px;
  align-items: center; background: var(--background-fill-primary); border: 2px solid var(--color-accent);
  border-radius: 8px; padding: 4px 8px; box-shadow: 0 4px 14px rgba(0,0,0,.25); font-size: 16px; }
#le-present-bar button { font-size: 17px; padding: 4px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); color: inherit; }
#le-present-bar button[aria-pressed="true"] { background: var(--color-accent); color: white; }
#le-present-bar .le-keys { color: var(--body-text-color-subdued); font-size: 13px; flex-basis: 100%; }
"""

# Runs once at page load (appended to the page's script): the mode, its bar, and the keys.
JS = r"""
(() => {
  const KEY = 'latent-explorer-present', PIXELS = 'latent-explorer-pixels';
  const body = document.body;
  const store = (k, on) => { try { localStorage.setItem(k, on ? '1' : ''); } catch (e) {} };
  const stored = (k) => { try { return localStorage.getItem(k) === '1'; } catch (e) { return false; } };
  const shown = (sel) => { const el = document.querySelector(sel); return el && el.getClientRects().length > 0 ? el : null; };
  const typing = (t) => { const tag = (t && t.tagName || '').toLowerCase();
    return ['input', 'textarea', 'select'].includes(tag) || (t && t.isContentEditable); };
  const bar = document.createElement('div');
  bar.id = 'le-present-bar';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Presentation');
  const button = (id, text, title, onclick) => { const b = document.createElement('button'); b.id = id;
    b.type = 'button'; b.textContent = text; b.title = title; b.addEventListener('click', onclick); bar.append(b); return b; };
  const seed = (step) => {
    const box = shown('#explore-seed input');
    if (!box || !shown('#explore-image')) return false;
    const now = Number(box.value);
    const next = Math.max(0, (Number.isFinite(now) ? Math.round(now) : 0) + step);
    box.value = String(next);
    box.dispatchEvent(new Event('input', {bubbles: true}));
    return true;
  };
  button('le-present-prev', '◀ Seed', 'Previous seed (←)', () => seed(-1));
  button('le-present-next', 'Seed ▶', 'Next seed (→)', () => seed(1));
  const pix = button('le-present-pixels', 'Pixels', "Show the model's own pixels instead of a smooth enlargement",
                     () => setPixels(!body.classList.contains('le-pixels')));
  button('le-present-exit', 'Exit (Esc)', 'Leave presentation mode', () => setPresent(false));
  const keys = document.createElement('span'); keys.className = 'le-keys';
  keys.textContent = '← → seed · 1–9 tab · space play · Ctrl+Z undo';
  bar.append(keys);
  body.append(bar);
  const setPixels = (on) => { body.classList.toggle('le-pixels', on); pix.setAttribute('aria-pressed', on ? 'true' : 'false');
    store(PIXELS, on); };
  const setPresent = (on) => { body.classList.toggle('le-present', on); store(KEY, on);
    const b = document.getElementById('present-toggle');
    if (b) b.setAttribute('aria-pressed', on ? 'true' : 'false');
    window.dispatchEvent(new Event('resize'));           // plots redraw at their new size
  };
  window.leTogglePresent = () => setPresent(!body.classList.contains('le-present'));
  setPixels(stored(PIXELS));
  setPresent(stored(KEY));
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || typing(e.target)) return;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && (e.key === 'z' || e.key === 'Z')) {
      const undo = shown('#explore-undo');
      if (undo) { undo.click(); e.preventDefault(); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape' && body.classList.contains('le-present')) { setPresent(false); e.preventDefault(); return; }
    if (e.key === 'p' || e.key === 'P') { window.leTogglePresent(); e.preventDefault(); return; }
    if (/^[1-9]$/.test(e.key)) {
      const list = document.querySelector('[role=tablist]');
      const tab = list ? list.querySelectorAll('[role=tab]')[Number(e.key) - 1] : null;
      if (tab) { tab.click(); e.preventDefault(); }
      return;
    }
    if ((e.key === 'ArrowRight' || e.key === 'ArrowLeft') && !shown('#tour-panel')) {
      if (seed(e.key === 'ArrowRight' ? 1 : -1)) e.preventDefault();
    }
  });
})();
"""
