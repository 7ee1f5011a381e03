// A tab opened (its select event's js, explorer/ui/app.py; {tab} is its id): the address bar remembers it, but
// not before the page has opened the view its address asks for (the first tab's automatic selection at
// start-up would otherwise rewrite ?tab= before it is read).
() => {
  if (window.__leViewOpened) {
    const u = new URL(window.location.href);
    u.searchParams.set('tab', '{tab}');
    window.history.replaceState(null, '', u);
  }
  return '{tab}';
}
