/*! commentsvc embed, the captcha: the site's provider's widget for the post and
 * report forms. Loaded by embed.js when a reader first touches a form of a site
 * with a captcha (with the provider's own script), never with the page.
 * Documented in docs/embed.md. */
(() => {
  "use strict";
  // Where this script came from: the dev widget is served beside it.
  const me = document.currentScript;
  const BASE = me ? me.src : location.href;

  // Captcha providers: the script to load on the reader's first interaction.
  const PROVIDERS = {
    recaptcha_v2: ["grecaptcha", "https://www.google.com/recaptcha/api.js?render=explicit"],
    recaptcha_v3: ["grecaptcha", "https://www.google.com/recaptcha/api.js?render="],
    hcaptcha: ["hcaptcha", "https://js.hcaptcha.com/1/api.js?render=explicit"],
    turnstile: ["turnstile", "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit"],
    dev: ["commentsvcDevCaptcha", new URL("captcha-dev.js?render=explicit", BASE).href],
  };

  let callbacks = 0;

  // A provider's script, loaded once per page: [global, url] -> its API.
  // scriptUrl is embed.js's Trusted Types policy (one policy per page).
  const scripts = {};
  function script(provider, v3, key, scriptUrl) {
    const src = provider[1] + (v3 ? encodeURIComponent(key) : "");
    return (scripts[src] ||= new Promise((ok, fail) => {
      const name = `commentsvcCaptcha${++callbacks}`;
      const el = document.createElement("script");
      el.async = true;
      el.src = scriptUrl(src + (v3 ? "" : `&onload=${name}`));
      window[name] = () => ok(window[provider[0]]);
      el.onload = () => {
        if (v3) window.grecaptcha ? grecaptcha.ready(() => ok(window.grecaptcha)) : fail(Error("load"));
      };
      el.onerror = () => {
        delete scripts[src];
        el.remove();
        fail(Error("load"));
      };
      document.head.append(el);
    }));
  }

  // One captcha widget per form (null: no provider we know). "box" kinds (v2
  // checkbox, hCaptcha, dev) need a tick; the others hand out a fresh token
  // when asked, at submit time. ctx is embed.js's (docs/embed.md).
  function makeCaptcha(ctx, cfg, slot, say, resend) {
    const provider = PROVIDERS[cfg.provider];
    if (!provider) return null;
    const { data, S } = ctx;
    const v3 = cfg.provider === "recaptcha_v3";
    const turnstile = cfg.provider === "turnstile";
    const key = cfg.provider === "dev" ? data.commentsvcSite : cfg.site_key;
    const invisible = turnstile || data.commentsvcCaptchaSize === "invisible";
    let loading;
    let api;
    let widget;
    let waiting; // the pending token request of an invisible widget
    let used = false;
    let sendOnTick = false;

    const self = {
      box: !v3 && !invisible,
      load() {
        // One script per provider and page, shared by every form's widget.
        return (loading ||= script(provider, v3, key, ctx.url).then(
          (loaded) => {
            api = loaded;
            if (!v3) widget = api.render(slot, options());
          },
          (e) => {
            loading = null;
            throw e;
          }
        ));
      },
      async token() {
        await self.load();
        if (v3) return api.execute(key, { action: "comment" });
        if (self.box) {
          const token = api.getResponse(widget);
          if (!token) throw Error("tick");
          return token;
        }
        if (used) api.reset(widget);
        used = true;
        return new Promise((ok, fail) => {
          waiting = { ok, fail };
          api.execute(widget);
        });
      },
      // The token was spent: a box must be ticked again.
      reset() {
        if (api && self.box) api.reset(widget);
      },
      // After captcha_expired: send by itself as soon as the box is ticked again.
      sendOnTick() {
        sendOnTick = true;
      },
    };

    function options() {
      const o = {
        sitekey: key,
        callback(token) {
          if (waiting) waiting.ok(token);
          waiting = null;
          if (sendOnTick) resend();
          sendOnTick = false;
        },
        "expired-callback"() {
          if (!self.box) return;
          api.reset(widget);
          say(S.expired, true);
        },
        "error-callback"() {
          if (waiting) waiting.fail(Error("error"));
          waiting = null;
        },
      };
      if (turnstile) {
        Object.assign(o, { action: "comment", execution: "execute", appearance: "interaction-only" });
      } else if (invisible) o.size = "invisible";
      return o;
    }
    return self;
  }

  window.commentsvcCaptcha = makeCaptcha;
})();
