// A class-conditional model's "one z, every class" row (gr.HTML js_on_load): names shown as text, never HTML.
const draw = () => {
  const v = props.value;
  const row = element.querySelector('.le-class-row');
  if (!v || !v.cells) { row.replaceChildren(); return; }
  element.querySelector('.le-class-row-caption').textContent = v.caption || '';
  row.replaceChildren(...v.cells.map((c, i) => {
    const fig = document.createElement('figure');
    fig.className = 'le-cell' + (i === v.current ? ' le-current' : '');
    const wide = v.cells.length <= 9;          // nine emoji categories fit a row at 46 px; ten classes at 40
    fig.style.cssText = 'margin:0;text-align:center;cursor:pointer;width:' + (wide ? 46 : 40) + 'px';
    fig.title = c.title || ('Draw this class: ' + c.name);
    const img = document.createElement('img');
    img.src = c.src;
    img.alt = c.name;
    img.className = v.rendering || 'le-crisp';
    img.style.cssText = (wide ? 'width:40px;height:40px;' : 'width:34px;height:34px;') + 'background:#000;box-sizing:content-box;border:3px solid '
      + (i === v.current ? '#e8a200' : 'transparent');
    const cap = document.createElement('figcaption');
    // the whole name, on two lines if it must ("Ankle / boot"): a cut-off "Sneak…" says nothing
    cap.style.cssText = 'font-size:9.5px;line-height:1.1;white-space:normal;overflow-wrap:anywhere;letter-spacing:-0.2px';
    cap.textContent = c.name;
    fig.append(img, cap);
    fig.addEventListener('click', () => trigger('click', {index: i}));
    return fig;
  }));
};
draw();
watch('value', draw);
