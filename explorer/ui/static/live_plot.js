// A live plotly figure (gr.HTML js_on_load, after figure_of.js): Plotly.react redraws in place (keeps zoom).
const draw = () => {
  const v = figureOf(props.value), div = element.querySelector('.le-live');
  if (!div || !v || !v.data) return;
  if (!window.Plotly) { setTimeout(draw, 100); return; }
  Plotly.react(div, v.data, v.layout, {displaylogo: false, responsive: true, staticPlot: false});
};
draw();
watch('value', draw);
