// A 2-d model's decoded manifold (gr.HTML js_on_load): the sheet, a marker where you are, a click sends the place.
const draw = () => {
  const v = props.value;
  if (!v || !v.src) return;
  element.querySelector('img').src = v.src;
  element.querySelector('.le-manifold-caption').textContent = v.caption || '';
  const m = element.querySelector('.le-marker');
  m.style.left = (100 * v.x) + '%';
  m.style.top = (100 * v.y) + '%';
  element.querySelector('.le-ticks').innerHTML =
    [-v.extent, 0, v.extent].map(t => '<span>' + Number(t).toFixed(0) + '</span>').join('');
};
draw();
watch('value', draw);
const sheet = element.querySelector('.le-manifold');
sheet.addEventListener('click', (e) => {
  const r = sheet.getBoundingClientRect();
  trigger('click', {fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height});
});
