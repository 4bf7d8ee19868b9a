// Injected into VS Code's workbench page by the test harness (see fixWebviewServiceWorkers in vscodeServer.ts):
// before the workbench points a new webview frame at its bootstrap (pre/index.html), drop the previous
// webviews' service-worker registrations so the new frame starts uncontrolled and claims its own worker.
(() => {
  if (window.top !== window || !('serviceWorker' in navigator)) {
    return;
  }
  const setAttribute = HTMLIFrameElement.prototype.setAttribute;
  HTMLIFrameElement.prototype.setAttribute = function (name, value) {
    if (name !== 'src' || !/\/webview\/browser\/pre\/index\.html/.test(String(value))) {
      return setAttribute.call(this, name, value);
    }
    void navigator.serviceWorker
      .getRegistrations()
      .then((registrations) =>
        Promise.all(registrations.filter((r) => /\/webview\/browser\/pre\/$/.test(r.scope)).map((r) => r.unregister())),
      )
      .finally(() => setAttribute.call(this, name, value));
  };
})();
