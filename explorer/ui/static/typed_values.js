// A value typed into the number box of an Explore slider (a direction, the Amount, the Temperature) counts as a
// drag that ends there: Enter, a pause in typing (PAUSE_MS) or leaving the box lets it go, and its release runs
// the usual chain (the picture, the strip and its note, the link, Undo), with a message at once for a value
// beyond the slider's ends naming that value. Gradio's slider lets go when its box loses the focus only: typed
// values drew a picture (fast_picture.js) and nothing else until then, and a value clamped on the way out was
// reported at the next entry. The release is Gradio's own (a pointerup on the box, as a drag's end).
(() => {
  const PAUSE_MS = 700;
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
    timers.set(box, setTimeout(() => letGo(box), PAUSE_MS));
  }, true);
  document.addEventListener('keydown', (e) => {
    const box = boxOf(e.target);
    if (box && e.key === 'Enter') { e.preventDefault(); letGo(box); }
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
