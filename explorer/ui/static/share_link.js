// The address bar follows the Explore picture (an event's js): the link reproduces it in another browser.
(recipe) => {
  if (!recipe) return '';
  const url = new URL(window.location.href);
  url.searchParams.set('recipe', recipe);
  window.history.replaceState(null, '', url);
  return url.toString();
}
