// The Explore picture while a direction slider, the Amount or the Temperature moves (dragged, arrow keys, typed):
// the page asks GET le/picture (explorer/ui/fast_picture.py) for the newest values' picture, one request at a
// time, and swaps it in; a picture that comes back after the picture was redrawn by an event (a release, a
// model switch) is dropped, never shown over it. A value beyond the slider's ends is drawn at the nearest end
// (its release says so); a new temperature draws the seed's own slider positions at it, as its release does.
(() => {
  let busy = false, wanted = null, shown = null;
  const sliderValue = (host, target) => {
    const el = host.contains(target) ? target : host.querySelector('input[type=range]');
    const x = el ? parseFloat(el.value) : NaN;
    if (!Number.isFinite(x)) return null;
    const lo = parseFloat(el.min), hi = parseFloat(el.max);
    return Math.min(Number.isFinite(hi) ? hi : x, Math.max(Number.isFinite(lo) ? lo : x, x));
  };
  const recipeNow = (target) => {
    // the address holds the shown picture's recipe (the share link); the recipe box is its fallback
    const box = document.querySelector('#explore-recipe textarea, #explore-recipe input');
    let r = null;
    try { r = JSON.parse(new URLSearchParams(location.search).get('recipe') || (box ? box.value : '')); }
    catch (err) { return null; }
    if (!r || typeof r !== 'object' || typeof r.model !== 'string') return null;
    const temperature = document.getElementById('explore-temperature');
    if (temperature && temperature.contains(target)) {
      const t = sliderValue(temperature, target);
      if (t === null) return null;
      r.temperature = t;
      r.sliders = [];                      // the seed's own positions at the new temperature (the release's reseed)
      delete r.names;
      return JSON.stringify(r);
    }
    const sliders = [];
    for (let i = 0; ; i++) {
      const host = document.getElementById('explore-slider-' + i);
      if (!host || !host.getClientRects().length) break;
      const x = sliderValue(host, target);
      if (x === null) return null;
      sliders.push(x);
    }
    r.sliders = sliders;
    const amount = document.getElementById('explore-amount');
    if (amount) { const a = sliderValue(amount, target); if (a !== null) r.amount = a; }
    delete r.names;
    return JSON.stringify(r);
  };
  let releases = 0;      // a picture asked for before the latest release is not shown
  let moves = 0;         // slider inputs so far
  const fetchPicture = (q) => fetch('le/picture?recipe=' + encodeURIComponent(q), {cache: 'no-store'});
  const showBlob = (img, blob) => {
    const url = URL.createObjectURL(blob), old = img.dataset.leFast;
    img.src = url;
    img.dataset.leFast = url;
    if (old) URL.revokeObjectURL(old);
  };
  // At a release the usual event redraws the picture, but a value that draws what the page last got
  // from the server changes nothing there, and a picture fetched while moving would stay. So while
  // such a picture is shown the page fetches the released value's picture itself; it is shown unless
  // the slider moved again or the event's own picture came first.
  const settle = async (q, asked) => {
    try {
      const res = await fetchPicture(q);
      if (!res.ok) return;
      const blob = await res.blob();
      const img = document.querySelector('#explore-image img');
      if (asked !== moves || !img || !img.dataset.leFast || img.src !== img.dataset.leFast) return;
      showBlob(img, blob);
    } catch (err) {}
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      while (wanted !== null && wanted !== shown) {
        const q = wanted, img = document.querySelector('#explore-image img'), asked = releases;
        const res = await fetchPicture(q);
        shown = q;
        if (!res.ok) break;                    // refused (a value out of range): the event says why
        const blob = await res.blob();
        if (asked !== releases) continue;          // let go meanwhile: the release's own picture stands
        if (!img || document.querySelector('#explore-image img') !== img) continue;   // redrawn meanwhile
        showBlob(img, blob);
      }
    } catch (err) {
    } finally { busy = false; }
  };
  const isSlider = (t) => t instanceof HTMLInputElement
    && t.closest('[id^="explore-slider-"], #explore-amount, #explore-temperature');
  document.addEventListener('input', (e) => {
    if (!isSlider(e.target)) return;
    moves++;
    const q = recipeNow(e.target);
    if (q !== null) { wanted = q; pump(); }
  }, true);
  // let go: the usual event draws the released value; nothing asked for before it may replace that
  const released = (e) => {
    if (!isSlider(e.target)) return;
    releases++;
    wanted = shown = null;
    const img = document.querySelector('#explore-image img'), q = recipeNow(e.target);
    if (img && img.dataset.leFast && img.src === img.dataset.leFast && q !== null) settle(q, moves);
  };
  document.addEventListener('pointerup', released, true);
  document.addEventListener('change', released, true);
  // arrow keys move a focused slider without the pointer: their end is its release (the picture and
  // the strip redrawn by the usual event), as a drag's end is
  const KEYS = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'];
  document.addEventListener('keyup', (e) => {
    const t = e.target;
    if (isSlider(t) && t.type === 'range' && KEYS.includes(e.key)) t.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
  }, true);
})();
