// The login's proof of work (ALTCHA, vendored): the widget's "external" build
// brings no workers, so its PBKDF2 worker is registered here, served from this
// origin (the login page's CSP allows workers from 'self' only).
const widget = document.querySelector("altcha-widget[data-worker]");
if (widget && globalThis.$altcha) {
  const url = widget.dataset.worker;
  globalThis.$altcha.algorithms.set("PBKDF2/SHA-256", () => new Worker(url));
}
