// The login's proof of work (ALTCHA, vendored): the widget's "external" build
// brings no workers, so its PBKDF2 worker is registered here, served from this
// origin (the login page's CSP allows workers from 'self' only). The puzzle is
// started here too, once the worker is registered: the widget's own
// auto="onload" fires 1 ms after it mounts, and when this script arrived later
// than that (a loaded machine) the first try had no worker and the puzzle was
// never solved.
const widget = document.querySelector("altcha-widget[data-worker]");
if (widget && globalThis.$altcha) {
  const url = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(url));
  customElements.whenDefined("altcha-widget").then(() => widget.verify());
}
