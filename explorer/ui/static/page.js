// The page's own behaviour, run once at load (explorer/ui/assets.py puts it in the page): hover tooltips on
// every control (window.leTips, from texts.TIPS), the drawing canvas's brush, and the keys: ← → walk the tour
// while its panel is open (never while typing; a focused button is no obstacle), space plays/pauses training
// on the Train tab (never while typing, never instead of a focused button). Presentation mode's keys are in
// presentation.js.
(() => {
  const tips = window.leTips || {};
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
  // the Map's nearest dots: a click goes to that dot, as its number typed into Find does
  document.addEventListener('click', (e) => {
    const dot = e.target.closest && e.target.closest('#map-selected button.le-dot');
    const box = document.querySelector('#map-find textarea, #map-find input'), go = document.getElementById('map-find-go');
    if (!dot || !box || !go || !/^\d+$/.test(dot.dataset.dot || '')) return;
    box.value = dot.dataset.dot;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => go.click(), 0);              // after Gradio has taken the typed number
  });
  const visible = (id) => { const el = document.getElementById(id); return el && el.getClientRects().length > 0 ? el : null; };
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = (e.target.tagName || '').toLowerCase();
    if (['input', 'textarea', 'select'].includes(tag) || e.target.isContentEditable) return;
    // the tour's arrows work with the focus on a button too: right after ▶ Tour, Next or Back it is there
    if (visible('tour-panel') && (e.key === 'ArrowRight' || e.key === 'ArrowLeft')) {
      const b = visible(e.key === 'ArrowRight' ? 'tour-next' : 'tour-back');
      if (b) { b.click(); e.preventDefault(); }
      return;
    }
    if (e.key === ' ' && tag !== 'button') {           // space on a focused button presses that button
      for (const [readout, pause, play] of [['train-toy-readout', 'train-pause', 'train-play'],
                                            ['train-img-readout', 'train-img-pause', 'train-img-play']]) {
        const r = visible(readout);
        if (!r) continue;
        const running = /\brunning\b/.test(r.innerText);
        const b = visible(running ? pause : play);
        if (b) { b.click(); e.preventDefault(); }
        return;
      }
    }
  });
})();
