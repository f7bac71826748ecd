/*! commentsvc embed, signing in: the sign-in chooser (a link by e-mail, the
 * site's OpenID Connect provider), the reader's account (their comments,
 * subscriptions, their data to download or erase, sign out), and what a
 * refused sign-in means. Loaded by embed.js on first use, never with the page.
 * Documented in docs/embed.md. */
(() => {
  "use strict";
  // Where this script came from: the sign-in pages are served beside it.
  const BASE = document.currentScript ? document.currentScript.src : location.href;
  // Defaults of the strings used here; a site overrides them as embed.js's
  // (window.commentsvcStrings, data-commentsvc-strings).
  const STRINGS = {
    signInTitle: "Sign in",
    yourEmail: "Your email address",
    yourName: "Your name (shown with your comments)",
    sendLink: "Email me a sign-in link",
    checkMail: "Check your mailbox: we sent you a link to sign in.",
    signInWith: "Sign in with {name}",
    close: "Close",
    noEmail: "Please enter your email address.",
    badEmail: "Please enter a valid email address.",
    accountTitle: "My account",
    loadingAccount: "Loading your account…",
    myComments: "My comments",
    noComments: "You have not commented here yet.",
    held: "awaiting moderation",
    mySubscriptions: "Reply notifications",
    noSubscriptions: "You get no reply notifications.",
    unsubscribe: "Unsubscribe",
    unsubscribed: "Unsubscribed.",
    download: "Download my data",
    signOut: "Sign out",
    signedOut: "You are signed out.",
    deleteAccount: "Delete my account and comments",
    confirmErase:
      "This erases your account and every comment you wrote on this site. It cannot be undone.",
    eraseYes: "Yes, delete my account and comments",
    eraseNo: "Keep my account",
    erased: "Your account and your comments are deleted.",
    suspendedNote: "Your account is suspended from commenting until {until}.",
    reason: "Reason: {reason}",
    // A refused sign-in reads the service's message; a site words it with
    // the error code as key (sso_invalid, sso_expired, session_invalid,
    // sign_in_required, account_banned), but for this one (the date is the
    // reader's, in the page's language):
    suspended: "Your account is suspended from commenting until {until}. Your comment is kept.",
    sessionEnded: "Your sign-in has ended: please sign in again. Your comment is kept.",
    tooFast: "Too many requests. Please try again in a few minutes.",
    unreachable: "The comment service could not be reached. Please try again.",
  };
  const CSS =
    ".acct{margin:.75em 0;padding:.75em;border:1px solid var(--bd);border-radius:var(--r)}" +
    ".acct h4{margin:0 0 .5em}.acct h5{margin:1em 0 .25em}.acct ul{margin:0;padding-left:1.25em}" +
    ".acct li{margin:.25em 0}.acct .send,.acct .link{margin:.25em .75em .25em 0}" +
    ".acct .send.oidc{display:inline-block;text-decoration:none}" +
    ".acct .danger{background:var(--er)}" +
    ".acct .warn{border-left:4px solid var(--er);padding-left:.5em}";

  function setup(ctx) {
    ctx.adopt(CSS);
    const S = { ...STRINGS, ...ctx.O };
    const t = (key, vars) => S[key].replace(/\{(\w+)\}/g, (m, n) => vars[n]);
    return [S, t];
  }

  const button = (ctx, text, cls, onclick) => ctx.h("button", { type: "button", class: cls, onclick }, text);

  const when = (iso) =>
    new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
      dateStyle: "long",
      timeStyle: "short",
    });

  // [HTTP status (0: no answer), the response] of a call to the site's reader
  // API (path relative to .../sites/<site>/), with the reader's session or
  // the site's own token (SSO).
  async function call(ctx, path, method, body) {
    const who = ctx.reader();
    const token = ctx.sso || (who && who.t);
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      const res = await fetch(new URL(path, ctx.api), {
        method: method || "GET",
        credentials: "omit",
        headers,
        body: body && JSON.stringify(body),
      });
      return [res.status, res];
    } catch (e) {
      return [0, null];
    }
  }

  const json = (res) => (res && res.status !== 204 ? res.json().catch(() => ({})) : {});

  // One panel at a time per embed, after the post form (never inside it: its
  // own form's submit must not post the comment). Escape or Close shuts it and
  // gives focus back to the button that opened it.
  function panel(ctx, title) {
    const [S] = setup(ctx);
    const h = ctx.h;
    shut(ctx);
    const opener = ctx.root.activeElement;
    const heading = h("h4", { tabindex: -1 }, title);
    const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
    const body = h("div");
    const close = button(ctx, S.close, "link", () => shut(ctx, true));
    const el = h("section", { class: "acct", part: "account", "aria-label": title }, heading, body, line, close);
    const say = (text, bad) => {
      line.textContent = text || "";
      line.className = bad ? "status bad" : "status";
    };
    const p = { el, body, say, opener };
    el.addEventListener("keydown", (e) => e.key === "Escape" && shut(ctx, true));
    ctx.panel = p;
    ctx.bar().closest("form").after(el);
    heading.focus();
    return p;
  }

  function shut(ctx, refocus) {
    const p = ctx.panel;
    if (!p) return;
    ctx.panel = null;
    p.el.remove();
    // The opener may have been redrawn meanwhile: then the sign-in line's button.
    const bar = ctx.bar();
    const back = p.opener && p.opener.isConnected ? p.opener : bar && bar.querySelector("button");
    if (refocus && back) back.focus();
  }

  // The session ended (401): forgotten here, the form back to a guest's.
  function ended(ctx, say) {
    const [S] = setup(ctx);
    ctx.session(null);
    shut(ctx);
    (say || ctx.say)(S.sessionEnded, true);
  }

  function trouble(S, code, answer) {
    if (code === 429) return S.tooFast;
    if (!code || code >= 500) return S.unreachable;
    return (answer.error || {}).message || S.unreachable;
  }

  // "Sign in": a link by e-mail (back to this page, signed in) and/or the
  // site's OpenID Connect provider.
  function chooser(ctx) {
    const [S, t] = setup(ctx);
    const h = ctx.h;
    const cfg = ctx.config().sign_in;
    const p = panel(ctx, S.signInTitle);
    const page = location.href.split("#")[0];
    if (cfg.email) {
      let guest = {};
      try {
        guest = JSON.parse(localStorage.getItem(`commentsvc:${ctx.site}:guest`)) || {};
      } catch (e) {}
      const input = (id, props) => h("input", { id, ...props });
      const email = input("signin-email", { type: "email", autocomplete: "email", maxlength: 254, required: true });
      const name = input("signin-name", { autocomplete: "name", maxlength: 100 });
      email.value = guest.e || "";
      name.value = guest.n || "";
      const send = h("button", { type: "submit", class: "send" }, S.sendLink);
      const form = h(
        "form",
        { novalidate: true },
        h("p", {}, h("label", { for: email.id }, S.yourEmail, " *"), email),
        h("p", {}, h("label", { for: name.id }, S.yourName), name),
        h("p", {}, send)
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        const address = email.value.trim();
        const problem = !address ? S.noEmail : !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address) && S.badEmail;
        email.setAttribute("aria-invalid", !!problem);
        if (problem) {
          p.say(problem, true);
          return email.focus();
        }
        send.disabled = true;
        const [code, res] = await call(ctx, "auth/email", "POST", {
          email: address,
          name: name.value.trim() || undefined,
          return_url: page,
        });
        send.disabled = false;
        const answer = await json(res);
        if (code === 202) {
          form.replaceWith(h("p", {}, S.checkMail));
          return p.say("");
        }
        const fields = (answer.error || {}).fields;
        p.say((fields && Object.values(fields)[0]) || trouble(S, code, answer), true);
      });
      p.body.append(form);
    }
    if (cfg.oidc) {
      const start = new URL(`auth/${encodeURIComponent(ctx.site)}/oidc/start`, BASE);
      start.searchParams.set("return", page);
      p.body.append(
        h("p", {}, h("a", { class: "send oidc", href: start.href }, t("signInWith", { name: cfg.oidc })))
      );
    }
  }

  // The reader's name, just back from a sign-in.
  async function me(ctx) {
    const [code, res] = await call(ctx, "me");
    if (code === 401) return ended(ctx);
    if (code !== 200) return;
    const answer = await json(res);
    const who = ctx.reader();
    if (who && who.t) ctx.session({ t: who.t, n: answer.account.name });
  }

  // "My account": what the service keeps of the reader, and what they can do
  // with it.
  async function account(ctx) {
    const [S, t] = setup(ctx);
    const h = ctx.h;
    const p = panel(ctx, S.accountTitle);
    p.say(S.loadingAccount);
    const [code, res] = await call(ctx, "me");
    if (code === 401) return ended(ctx);
    const answer = await json(res);
    if (code !== 200) return p.say(trouble(S, code, answer), true);
    p.say("");
    const { account: who, comments, subscriptions } = answer;
    // An SSO reader's name is the site's token's: nothing kept here.
    if (!ctx.sso && ctx.reader().n !== who.name) ctx.session({ t: ctx.reader().t, n: who.name });
    const list = (items, empty, item) =>
      items.length ? h("ul", {}, ...items.map(item)) : h("p", { class: "note" }, empty);
    const link = (x, text) => h("a", { href: x.url ? `${x.url.split("#")[0]}#comment-${x.id}` : null }, text);
    const suspended = Date.parse(who.suspended_until) > Date.now(); // NaN: none
    const action = (...a) => button(ctx, ...a);
    const erase = action(S.deleteAccount, "link", () => confirmErase(ctx, p, erase, comments));
    p.body.append(
      h("p", {}, h("strong", {}, who.name), who.email ? ` (${who.email})` : ""),
      suspended ?
        h("p", { class: "warn" }, t("suspendedNote", { until: when(who.suspended_until) }),
          who.suspension_reason ? ` ${t("reason", { reason: who.suspension_reason })}` : "") : "",
      h("h5", {}, S.myComments),
      list(comments, S.noComments, (c) =>
        h("li", {}, link(c, c.excerpt), " ", h("time", { class: "note", datetime: c.created_at }, when(c.created_at)),
          c.status === "pending" ? h("span", { class: "note" }, ` · ${S.held}`) : "")),
      h("h5", {}, S.mySubscriptions),
      list(subscriptions, S.noSubscriptions, (s) => {
        const li = h("li", {}, h("a", { href: s.url }, s.title || s.url || s.thread), " ");
        li.append(action(S.unsubscribe, "link", async () => {
          const [done] = await call(ctx, `me/subscriptions/${s.id}`, "DELETE");
          if (done === 401) return ended(ctx);
          if (done !== 204 && done !== 404) return p.say(trouble(S, done, {}), true);
          li.remove();
          p.say(S.unsubscribed);
        }));
        return li;
      }),
      h("p", {},
        action(S.download, "send", () => download(ctx, p)),
        // Signing out of the site's own login is the site's business.
        !ctx.sso && action(S.signOut, "link", () => signOut(ctx, p)),
        erase)
    );
  }

  // The reader's data as a file (GET me/export needs the session header, so
  // it is fetched, then saved from a blob: URL).
  async function download(ctx, p) {
    const [S] = setup(ctx);
    const [code, res] = await call(ctx, "me/export");
    if (code === 401) return ended(ctx);
    if (code !== 200) return p.say(trouble(S, code, await json(res)), true);
    const url = URL.createObjectURL(await res.blob());
    const a = ctx.h("a", { href: url, download: `${ctx.site}-my-comments.json` });
    ctx.root.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async function signOut(ctx, p) {
    const [S] = setup(ctx);
    // Forgotten here even if the service cannot be told now: the reader asked.
    await call(ctx, "me/sign-out", "POST");
    ctx.session(null);
    shut(ctx);
    ctx.say(S.signedOut);
  }

  // Erasing asks once more, in place: the default button keeps the account.
  function confirmErase(ctx, p, erase, comments) {
    const [S] = setup(ctx);
    const h = ctx.h;
    const no = button(ctx, S.eraseNo, "send", () => {
      ask.remove();
      erase.hidden = false;
      erase.focus();
    });
    const yes = button(ctx, S.eraseYes, "send danger", async () => {
      yes.disabled = true;
      const [code, res] = await call(ctx, "me", "DELETE", { confirm: true });
      yes.disabled = false;
      if (code === 401) return ended(ctx);
      if (code !== 200) return p.say(trouble(S, code, await json(res)), true);
      // Gone from this page too: the reader's held ones, the published ones
      // (the listing may be cached a little longer).
      const gone = new Set(comments.map((c) => c.id));
      const { comments: shown, mine } = ctx.s();
      for (const c of shown) if (gone.has(c.id)) Object.assign(c, { deleted: true, author: "" });
      mine.splice(0, mine.length, ...mine.filter((c) => !gone.has(c.id)));
      ctx.save();
      ctx.session(null);
      shut(ctx);
      ctx.render();
      ctx.say(S.erased);
    });
    const ask = h("div", { class: "warn", role: "alert" }, h("p", {}, S.confirmErase), h("p", {}, no, yes));
    erase.hidden = true;
    erase.after(ask);
    no.focus();
  }

  // A post refused because of who the reader is: said in the reader's words,
  // the comment kept (embed.js never clears it on an error).
  function refused(ctx, error, say) {
    const [S, t] = setup(ctx);
    const code = error.code;
    if (code === "session_invalid") ctx.session(null);
    if (code === "sign_in_required") {
      // The site stopped taking guests since the page loaded.
      ctx.config().sign_in.guests = false;
      ctx.session(null);
    }
    const reason = error.reason ? ` ${t("reason", { reason: error.reason })}` : "";
    const words = code === "account_suspended" && error.until ? t("suspended", { until: when(error.until) }) : S[code];
    say((words || error.message) + reason, true);
  }

  window.commentsvcAuth = { chooser, account, me, refused };
})();
