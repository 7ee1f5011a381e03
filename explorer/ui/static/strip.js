// The ±3σ strip (gr.HTML js_on_load; explorer/ui/strip_view.py): props.value is its cells (a dict) or an error
// panel (HTML the server made and escaped); cells are built with textContent, a click sends back its place in σ.
const draw = () => {
  const v = props.value;
  const row = element.querySelector('.le-strip'), msg = element.querySelector('.le-strip-message');
  if (typeof v === 'string') { row.replaceChildren(); msg.innerHTML = v; return; }
  msg.replaceChildren();
  const note = element.querySelector('.le-where');
  note.textContent = (v && v.note) || '';
  note.style.display = note.textContent ? '' : 'none';
  if (!v || !v.cells) { row.replaceChildren(); return; }
  // every cell in one row, however many (the current picture between the σ steps makes 7 or 8): they share
  // the column's width instead of wrapping the last one alone onto a second row
  row.style.gridTemplateColumns = 'repeat(' + v.cells.length + ', minmax(0, 64px))';
  row.replaceChildren(...v.cells.map((c, i) => {
    const here = i === v.current;
    const fig = document.createElement('figure');
    fig.className = 'le-cell' + (here ? ' le-current' : '');
    fig.dataset.sigma = String(c.sigma);
    fig.style.cssText = 'margin:0;text-align:center;' + (here ? '' : 'cursor:pointer');
    fig.title = here ? 'You are here' : 'Go here (' + c.caption + ')';
    const img = document.createElement('img');
    img.src = c.src;
    img.alt = c.caption;
    img.className = v.rendering || 'le-crisp';
    img.style.cssText = 'width:100%;height:auto;aspect-ratio:1;display:block;background:#000;box-sizing:border-box;'
      + 'border:3px solid ' + (here ? '#e8a200' : 'transparent');
    const cap = document.createElement('figcaption');
    cap.style.cssText = 'font-size:11px;line-height:1.2';
    cap.textContent = c.caption;
    fig.append(img, cap);
    if (!here) {
      fig.tabIndex = 0;
      fig.setAttribute('role', 'button');
      const go = () => trigger('click', {sigma: c.sigma});
      fig.addEventListener('click', go);
      fig.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); go(); } });
    }
    return fig;
  }));
};
draw();
watch('value', draw);
