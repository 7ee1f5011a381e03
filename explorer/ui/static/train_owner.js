// The training owner's page says it is closing: as the page goes away (closed, reloaded, left for another
// address) it sends the owner token of the run it started to POST le/leave (explorer/ui/leave_route.py), so
// the run stops within seconds unless the page comes back (a reload does, and keeps control). The token is
// what the Train tab's heartbeat last sent (window.leTrainOwner, set by its event: train_tab.py).
(() => {
  window.addEventListener('pagehide', () => {
    const token = window.leTrainOwner;
    if (typeof token === 'string' && token && navigator.sendBeacon) {
      navigator.sendBeacon('le/leave', new Blob([token], {type: 'text/plain'}));
    }
  });
})();
