// Presentation mode (P / the header's Present button / Esc) and the presenter's keys, run once at page load:
// the mode's bar (seed ◀ ▶, Pixels, Exit), the choice kept in local storage, and the keys
// (P, Esc, ← → seed, 1-9 tab, Ctrl+Z undo), never while typing in a box. Fixed text only.
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
  keys.textContent = 'Keys: ← → seed · 1–9 tab · space play/pause · Ctrl+Z undo · Esc leave';
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
