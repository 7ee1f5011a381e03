// A value typed into the number box of an Explore slider (a direction, the Amount, the Temperature) counts as a
// drag that ends there: Enter, a pause in typing (PAUSE_MS; longer for a value beyond the slider's ends that more
// typing could still bring in, "0" on the way to "0.5") or leaving the box lets it go, and its release runs
// the usual chain (the picture, the strip and its note, the link, Undo), with a message at once for a value
// beyond the slider's ends naming that value. Gradio's slider lets go when its box loses the focus only: typed
// values drew a picture (fast_picture.js) and nothing else until then, and a value clamped on the way out was
// reported at the next entry. The release is Gradio's own (a pointerup on the box, as a drag's end).
(() => {
  const PAUSE_MS = 700;
  const UNFINISHED_MS = 2000;        // the pause for a value beyond the ends that more typing could still bring in
  // can typing more characters after `text` reach [lo, hi]? ("0" on the way to "0.5" when 0.3 is the lowest)
  const couldBecome = (text, lo, hi) => {
    const t = text.trim(), x = parseFloat(t);
    if (!Number.isFinite(x)) return true;
    const a = Math.abs(x), neg = t.startsWith('-'), dot = t.indexOf('.');
    const reach = [[a, a + (dot >= 0 ? Math.pow(10, dot + 1 - t.length) : 1)]];   // more decimals
    if (dot < 0) reach.push([a * 10, Infinity]);                                  // more digits before the point
    return reach.some(([u, v]) => (neg ? -u >= lo && -v < hi : v > lo && u <= hi));     // [u, v): v not reached
  };
  const pauseFor = (box) => {
    const x = parseFloat(box.value), lo = parseFloat(box.min), hi = parseFloat(box.max);
    const beyond = Number.isFinite(x) && ((Number.isFinite(lo) && x < lo) || (Number.isFinite(hi) && x > hi));
    return beyond && couldBecome(box.value, Number.isFinite(lo) ? lo : -Infinity, Number.isFinite(hi) ? hi : Infinity)
      ? UNFINISHED_MS : PAUSE_MS;
  };
  const SLIDERS = '[id^="explore-slider-"], #explore-amount, #explore-temperature';
  const boxOf = (t) => (t instanceof HTMLInputElement && t.type === 'number' && t.closest(SLIDERS)) ? t : null;
  const timers = new WeakMap();      // box -> its pending pause
  const sent = new WeakMap();        // box -> the text it last let go with
  const letGo = (box) => {
    clearTimeout(timers.get(box));
    timers.delete(box);
    if (!Number.isFinite(parseFloat(box.value)) || sent.get(box) === box.value) return;
    sent.set(box, box.value);
    box.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
  };
  document.addEventListener('input', (e) => {
    const box = boxOf(e.target);
    if (!box) return;
    sent.delete(box);
    clearTimeout(timers.get(box));
    timers.set(box, setTimeout(() => letGo(box), pauseFor(box)));
  }, true);
  document.addEventListener('keydown', (e) => {
    const box = boxOf(e.target);
    if (box && e.key === 'Enter') { e.preventDefault(); letGo(box); }
  }, true);
  // a click into the box (to type) is no release: Gradio lets go on its pointerup (meant for the spin arrows), and
  // that event, started late on a busy server, read a half-typed value ("0" of "0.5") and wrote it back clamped
  const pressed = new WeakMap();
  document.addEventListener('pointerdown', (e) => { const box = boxOf(e.target); if (box) pressed.set(box, box.value); }, true);
  document.addEventListener('pointerup', (e) => {
    const box = boxOf(e.target);
    if (box && e.isTrusted && pressed.get(box) === box.value) e.stopPropagation();   // nothing changed: nothing to let go
  }, true);
  // leaving the box: Gradio lets go itself, unless the value was let go already (one release, one message)
  window.addEventListener('blur', (e) => {
    const box = boxOf(e.target);
    if (!box) return;
    clearTimeout(timers.get(box));
    timers.delete(box);
    if (sent.get(box) === box.value) e.stopImmediatePropagation();
  }, true);
})();
