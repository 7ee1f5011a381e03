// The visitor's open tab (gr.HTML js_on_load, explorer/ui/app.py): a new value opens that tab as a click would.
watch('value', () => {
  const b = document.querySelector(`button[role="tab"][data-tab-id="${props.value}"]`);
  if (b && b.getAttribute('aria-selected') !== 'true') b.click();
});
