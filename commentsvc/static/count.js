/*! commentsvc count.js: comment counts on lists of articles. Documented in docs/embed.md. */
(() => {
  "use strict";
  const me = document.currentScript || document.querySelector("script[src*='count.js']");
  if (!me) return;
  const BASE = me.src;
  const data = me.dataset;
  const site = data.commentsvcSite;

  // Per language (the page's lang): "none" for 0, then Intl.PluralRules
  // categories (one, two, few, many, other); "other" when one is missing.
  // A site overrides any of them with window.commentsvcCountStrings = {...} or
  // data-commentsvc-strings='{"...": "..."}' on this script tag.
  const LANGS = {
    en: { none: "No comments", one: "{n} comment", other: "{n} comments" },
    de: { none: "Keine Kommentare", one: "{n} Kommentar", other: "{n} Kommentare" },
    fr: { none: "Aucun commentaire", one: "{n} commentaire", other: "{n} commentaires" },
    es: { none: "Sin comentarios", one: "{n} comentario", other: "{n} comentarios" },
    pl: {
      none: "Brak komentarzy",
      one: "{n} komentarz",
      few: "{n} komentarze",
      other: "{n} komentarzy",
    },
  };
  const lang = document.documentElement.lang || "en";
  let custom = {};
  try {
    custom = JSON.parse(data.commentsvcStrings || "{}");
  } catch (e) {}
  const S = {
    ...LANGS.en,
    ...LANGS[lang.toLowerCase().split("-")[0]],
    ...window.commentsvcCountStrings,
    ...custom,
  };
  let plural = () => "other";
  let number = String;
  try {
    const rules = new Intl.PluralRules(lang);
    plural = (n) => rules.select(n);
    number = new Intl.NumberFormat(lang).format;
  } catch (e) {} // an unknown lang: English plurals, plain digits
  const text = (n) =>
    (n ? S[plural(n)] || S.other : S.none).replace(/\{n\}/g, number(n));

  // The thread key, as embed.js keys a page: the attribute's value, or the
  // path of the link the element sits in.
  const key = (el) => {
    const a = el.closest("a[href]");
    return (el.dataset.commentsvcCount || (a ? new URL(a.href, location.href).pathname : "")).trim();
  };
  // Slashes need no escaping in a query: shorter URLs.
  const param = (k) => "thread=" + encodeURIComponent(k).replace(/%2F/g, "/");
  let els;

  async function fill(keys) {
    const url = new URL(`api/v1/sites/${encodeURIComponent(site)}/counts`, BASE);
    url.search = keys.map(param).join("&");
    try {
      const res = await fetch(url, { credentials: "omit" });
      if (!res.ok) return;
      const { counts } = await res.json();
      for (const el of els) {
        const k = key(el);
        if (Object.hasOwn(counts, k)) el.textContent = text(counts[k]);
      }
    } catch (e) {} // the service is away: the spans keep what the page put in them
  }

  function start() {
    els = [...document.querySelectorAll("[data-commentsvc-count]")];
    // Only keys the API takes: one it refuses would cost its whole batch.
    const keys = [...new Set(els.map(key))].filter(
      (k) => k && k.length <= 512 && !/[\0-\x1f\x7f]/.test(k),
    );
    // One request per 100 threads (the API's most), and URLs servers take
    // (gunicorn refuses request lines over 4 KB).
    let batch = [];
    let size = 0;
    for (const k of keys) {
      const n = param(k).length + 1;
      if (batch.length === 100 || (batch.length && size + n > 3000)) {
        fill(batch);
        batch = [];
        size = 0;
      }
      batch.push(k);
      size += n;
    }
    if (batch.length) fill(batch);
  }

  if (!site) return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
