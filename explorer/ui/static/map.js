// The Map's scatter (gr.HTML js_on_load, after figure_of.js): plotly.js draws it, a hovered dot's picture comes
// from the server function `thumbnail`, a click sends the dot's index (checked by Workspace.map_item).
let hoverSeq = 0;      // the latest hover: an answer for an earlier one (or after leaving the dot) is dropped
let shown = null;      // the figure drawn (its model names the hovered dot's picture)
const clear = () => {
  const div = element.querySelector('.le-map');
  if (!div) return;
  if (window.Plotly && div.dataset.bound) Plotly.purge(div);
  delete div.dataset.bound;
  div.replaceChildren();
  element.querySelector('.le-hover').style.display = 'none';
};
// another model picked in the header (a click, or Enter on the list): this map goes at once, not when the
// switch's answer comes back (0.2-0.5 s later); the new model's map comes with it, or when it is ready
const picked = (option) => option && option.getAttribute('aria-selected') !== 'true';
document.addEventListener('mousedown', (e) => {
  if (picked(e.target.closest && e.target.closest('#model-picker li[role=option]'))) clear();
}, true);
document.addEventListener('keydown', (e) => {
  const box = e.key === 'Enter' && e.target.closest && e.target.closest('#model-picker input[role=combobox]');
  const id = box && box.getAttribute('aria-activedescendant');
  if (id && picked(document.getElementById(id))) clear();
}, true);
const draw = () => {
  const v = shown = figureOf(props.value);
  const div = element.querySelector('.le-map');
  const hover = element.querySelector('.le-hover');
  if (!div) return;
  if (!v || !v.data) { clear(); return; }   // another model's map is on its way: never show the old one
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  Plotly.react(div, v.data, v.layout, {displaylogo: false, responsive: true});
  hover.className = 'le-hover ' + (v.rendering || 'le-crisp');
  if (div.dataset.bound) return;
  div.dataset.bound = '1';
  div.on('plotly_click', (ev) => {
    const p = ev.points && ev.points[0];
    if (p && p.customdata !== undefined && p.customdata !== null) {
      element.dataset.selected = String(p.customdata);
      trigger('click', {index: p.customdata});
    }
  });
  div.on('plotly_hover', async (ev) => {
    const seq = ++hoverSeq;
    const p = ev.points && ev.points[0];
    if (!p || !shown || p.customdata === undefined || p.customdata === null) return;
    const e = ev.event, box = element.getBoundingClientRect();
    hover.style.left = (e.clientX - box.left + 14) + 'px';
    hover.style.top = (e.clientY - box.top + 14) + 'px';
    try {
      const url = await server.thumbnail([shown.model, p.customdata]);
      if (seq !== hoverSeq) return;
      if (url) { hover.src = url; hover.style.display = 'block'; } else { hover.style.display = 'none'; }
    } catch (err) { hover.style.display = 'none'; }
  });
  div.on('plotly_unhover', () => { hoverSeq++; hover.style.display = 'none'; });
};
draw();
watch('value', draw);
