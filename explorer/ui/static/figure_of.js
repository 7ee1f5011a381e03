// A plotly figure back from its JSON string (explorer/ui/plotly_html.py figure_value); an object is taken as is.
const figureOf = (v) => {
  if (typeof v !== 'string') return v || null;
  try { return v ? JSON.parse(v) : null; } catch (err) { return null; }
};
