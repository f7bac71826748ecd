/*! commentsvc dev captcha: an "I'm not a robot" checkbox for the demo and the
 * tests. NOT FOR PRODUCTION: it proves nothing about the reader.
 *
 * It behaves like Google's reCAPTCHA v2 checkbox, with the same API subset:
 *   commentsvcDevCaptcha.render(container, {sitekey, callback, "expired-callback",
 *     "error-callback"}) -> widget id; .getResponse(id); .reset(id)
 * Ticking the box fetches a token from POST <service>/api/v1/sites/<sitekey>/
 * captcha/dev-token (the sitekey is the site's slug); after its "expires_in"
 * seconds the box unticks itself and "expired-callback" fires. The script calls
 * the global function named by its "onload" query parameter when it is ready. */
(() => {
  "use strict";
  const src = new URL(document.currentScript.src);
  const CSS =
    ".box{display:inline-flex;align-items:center;gap:.75em;padding:.75em 1em;" +
    "border:1px solid #d3d3d3;border-radius:3px;background:#f9f9f9;color:#222;" +
    "font:14px/1.4 system-ui,sans-serif;box-shadow:0 0 4px rgba(0,0,0,.08)}" +
    "input{width:1.6em;height:1.6em;margin:0;accent-color:#1a73e8}" +
    "small{display:block;color:#555;font-size:10px}.msg{color:#d63638;font-size:12px}" +
    ".msg:empty{display:none}";
  const widgets = [];
  let sheet;

  const call = (fn, ...args) => {
    const f = typeof fn === "string" ? window[fn] : fn;
    if (typeof f === "function") f(...args);
  };
  const el = (tag, text) => {
    const e = document.createElement(tag);
    if (text) e.textContent = text;
    return e;
  };

  function clear(w) {
    clearTimeout(w.timer);
    w.token = "";
    w.box.checked = false;
    w.box.disabled = false;
  }

  function render(container, params) {
    const root = container.attachShadow({ mode: "open" });
    if (root.adoptedStyleSheets && window.CSSStyleSheet) {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else root.append(el("style", CSS));
    const box = el("input");
    box.type = "checkbox";
    box.id = "robot";
    const label = el("label", "I'm not a robot");
    label.htmlFor = "robot";
    const msg = el("p");
    msg.className = "msg";
    msg.setAttribute("role", "status");
    const wrap = el("div");
    wrap.className = "box";
    const text = el("div");
    text.append(label, el("small", "dev captcha: not for production"), msg);
    wrap.append(box, text);
    root.append(wrap);
    const w = { box, token: "", timer: 0 };
    widgets.push(w);

    box.addEventListener("change", async () => {
      if (!box.checked) return clear(w);
      box.disabled = true;
      msg.textContent = "";
      const url = `api/v1/sites/${encodeURIComponent(params.sitekey)}/captcha/dev-token`;
      try {
        const res = await fetch(new URL(url, src), { method: "POST", credentials: "omit" });
        const data = await res.json();
        if (!res.ok) throw Error(res.status);
        w.token = data.token;
        box.disabled = false;
        w.timer = setTimeout(() => {
          clear(w);
          msg.textContent = "Verification expired. Check the checkbox again.";
          call(params["expired-callback"]);
        }, data.expires_in * 1000);
        call(params.callback, data.token);
      } catch (e) {
        clear(w);
        msg.textContent = "The check failed. Please try again.";
        call(params["error-callback"]);
      }
    });
    return widgets.length - 1;
  }

  const widget = (id) => widgets[id || 0];
  window.commentsvcDevCaptcha = {
    render,
    getResponse: (id) => (widget(id) ? widget(id).token : ""),
    reset(id) {
      const w = widget(id);
      if (w) clear(w);
    },
  };
  call(src.searchParams.get("onload"));
})();
