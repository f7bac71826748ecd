/*! commentsvc embed: a page's comments and a reply form, in a shadow root.
 * Hand-written, no dependencies, no build step. Documented in docs/embed.md. */
(() => {
  "use strict";
  // The service's address is where this script came from.
  const me = document.currentScript || document.querySelector("script[src*='embed.js']");
  const BASE = me ? me.src : location.href;

  // Every string the reader sees. A site overrides any of them with
  // window.commentsvcStrings = {...} or data-commentsvc-strings='{"...": "..."}'.
  const STRINGS = {
    loading: "Loading comments…",
    loadFailed: "The comments could not be loaded.",
    none: "No comments yet",
    one: "1 Comment",
    many: "{n} Comments",
    leave: "Leave a Reply",
    leaveTo: "Leave a Reply to {name}",
    cancel: "Cancel reply",
    reply: "Reply",
    replyTo: "Reply to {name}",
    note: "Your email address will not be published. Required fields are marked *",
    comment: "Comment",
    name: "Name",
    email: "Email",
    notify: "Notify me of replies by email",
    website: "Website",
    post: "Post Comment",
    posting: "Posting your comment…",
    retry: "Retry",
    more: "Show more comments",
    moreReplies: "Show more replies",
    noComment: "Please enter your comment!",
    noName: "Please enter your name here",
    noEmail: "Please enter your email address.",
    badEmail: "Please enter a valid email address.",
    tooLong: "Please keep your comment under {n} characters.",
    fix: "Please correct the highlighted fields.",
    pending: "Your comment is awaiting moderation.",
    published: "Your comment has been published.",
    restored: "Your unsent comment has been restored.",
    tick: "Please confirm that you are not a robot.",
    expired: "The captcha expired. Please tick the box again; your comment is kept.",
    tickAgain: "Please tick the box again to send your comment.",
    captchaFailed: "The captcha could not be verified. Please try again.",
    offline:
      "The comment service could not be reached. Your comment is kept in this " +
      "browser: retry in a moment.",
    failed: "Your comment could not be posted.",
    report: "Report",
    edit: "Edit",
    remove: "Delete",
    edited: "(edited)",
    editPending: "Your edit awaits moderation.",
    deleted: "[deleted]",
    inReplyTo: "in reply to {name}",
    sort: "Order of comments",
    oldest: "Oldest first",
    newest: "Newest first",
    closed: "Comments are closed.",
    signedInAs: "Signed in as {name}",
    signIn: "Sign in",
    account: "My account",
    signInFirst: "Please sign in to comment.",
    logIn: "Log in to this site to comment.",
    staff: "Staff",
  };

  const DARK =
    "--a:var(--commentsvc-accent,#72aee6);--at:var(--commentsvc-accent-text,#101517);" +
    "--mu:var(--commentsvc-muted,#a7aaad);--fb:var(--commentsvc-field-bg,#2c3338);" +
    "--bd:var(--commentsvc-border,#50575e);--er:var(--commentsvc-error,#f86368);" +
    "--pb:var(--commentsvc-pending-bg,#3b3520);color:var(--commentsvc-text,#f0f0f1);" +
    "background:var(--commentsvc-bg,#1d2327);padding:var(--commentsvc-padding,1em)";
  const CSS =
    ":host{display:block;--a:var(--commentsvc-accent,#2271b1);" +
    "--at:var(--commentsvc-accent-text,#fff);--mu:var(--commentsvc-muted,#646970);" +
    "--fb:var(--commentsvc-field-bg,#fff);--bd:var(--commentsvc-border,#8c8f94);" +
    "--er:var(--commentsvc-error,#d63638);--pb:var(--commentsvc-pending-bg,#fcf9e8);" +
    "--r:var(--commentsvc-radius,4px);color:var(--commentsvc-text);" +
    "background:var(--commentsvc-bg);padding:var(--commentsvc-padding,0);" +
    "font:var(--commentsvc-font,inherit);line-height:1.5}" +
    `:host([data-commentsvc-theme=dark]){${DARK}}` +
    `@media(prefers-color-scheme:dark){:host(:not([data-commentsvc-theme=light])){${DARK}}}` +
    "[hidden]{display:none!important}" +
    "ol{list-style:none;margin:0;padding:0}" +
    // Indents in % of the column: at 320 px, 8 levels still leave the text
    // more than half of it.
    "ol ol{margin-left:min(var(--commentsvc-indent,1.5em),3%);padding-left:min(.75em,2%);" +
    "border-left:2px solid var(--bd)}.body{overflow-wrap:anywhere}" +
    ".top{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline}" +
    "article .link{margin-right:1em}" +
    "a{color:var(--a)}li{margin:1.25em 0}.who{font-weight:600}time,.note{color:var(--mu);font-size:.875em}" +
    ".body p{margin:.5em 0}.mine .body{white-space:pre-wrap;margin:.5em 0}" +
    ".mine>article{background:var(--pb);padding:.5em .75em;border-radius:var(--r)}" +
    ".link{background:none;border:0;padding:0;font:inherit;font-size:.875em;color:var(--a);" +
    "text-decoration:underline;cursor:pointer}" +
    "h3 .link{margin-left:1em;font-weight:400}" +
    "label{display:block;font-weight:600;margin-bottom:.25em}" +
    "input,textarea{box-sizing:border-box;width:100%;padding:.5em;font:inherit;color:inherit;" +
    "background:var(--fb);border:1px solid var(--bd);border-radius:var(--r)}" +
    // The notify box: a checkbox beside its words, not a full-width block.
    "label.check{font-weight:400}label.check input{width:auto;margin:0 .4em 0 0;vertical-align:middle}" +
    ":focus-visible{outline:2px solid var(--a);outline-offset:2px}" +
    "[aria-invalid=true]{border-color:var(--er)}.err,.bad{color:var(--er)}" +
    ".err{display:block;font-size:.875em}.err:empty{display:none}" +
    ".send{background:var(--a);color:var(--at);border:0;border-radius:var(--r);" +
    "padding:.6em 1.2em;font:inherit;font-weight:600;cursor:pointer;margin-right:.5em}" +
    ".send:disabled{opacity:.6;cursor:progress}" +
    ".badge{font-size:.75em;font-weight:600;margin-left:.5em;padding:0 .4em;border-radius:var(--r);" +
    "background:var(--a);color:var(--at)}" +
    ".hp{position:absolute;left:-9999px;width:1px;height:1px;overflow:hidden}";

  // One stylesheet per CSS text (this script's, and each lazy script's own).
  const sheets = {};
  const adopt = (root, css = CSS) => {
    const a = root.adoptedStyleSheets;
    if (a && window.CSSStyleSheet) {
      // A constructed stylesheet needs no 'unsafe-inline' under a strict CSP.
      let sheet = sheets[css];
      if (!sheet) (sheet = sheets[css] = new CSSStyleSheet()).replaceSync(css);
      if (!a.includes(sheet)) root.adoptedStyleSheets = [...a, sheet];
    } else if (!(root.css ||= {})[css]) root.append(h("style", {}, (root.css[css] = css)));
  };

  // Pages that enforce Trusted Types allow this policy with "trusted-types commentsvc".
  // Its only inputs: comment HTML the service sanitised, and the captcha script URL.
  let html = (s) => s;
  let scriptUrl = html;
  try {
    const tt = window.trustedTypes &&
      trustedTypes.createPolicy("commentsvc", { createHTML: html, createScriptURL: html });
    if (tt) {
      html = (s) => tt.createHTML(s);
      scriptUrl = (s) => tt.createScriptURL(s);
    }
  } catch (e) {} // the page's CSP allows no such policy: plain strings it is

  // h("p", {class: "x", onclick: fn}, "text", child): an element; never a style attribute.
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, "");
      else if (v != null && v !== false) el.setAttribute(k, v);
    }
    el.append(...kids.filter((k) => k != null && k !== false));
    return el;
  }

  const store = {
    get(key) {
      try {
        return JSON.parse(localStorage.getItem(key));
      } catch (e) {
        return null;
      }
    },
    set(key, value) {
      try {
        if (value == null) localStorage.removeItem(key);
        else localStorage.setItem(key, JSON.stringify(value));
      } catch (e) {} // storage full or disabled: the page still works
    },
  };

  // What is used now and then loads on first use, once per page:
  // embed-extra.js (report, edit, delete, finding a linked comment on a later
  // page, the nudge), embed-captcha.js (the site's captcha widget) and
  // embed-auth.js (signing in, the reader's account). use("extra") -> the
  // script's window.commentsvcExtra.
  const lazy = {};
  const use = (name) =>
    (lazy[name] ||= new Promise((ok, fail) => {
      const script = h("script", { async: true });
      script.src = scriptUrl(new URL(`embed-${name}.js`, BASE).href);
      script.onload = () => ok(window[`commentsvc${name[0].toUpperCase()}${name.slice(1)}`]);
      script.onerror = () => fail((lazy[name] = null));
      document.head.append(script);
    }));

  function mount(host) {
    const data = host.dataset;
    const site = data.commentsvcSite;
    let custom = {};
    try {
      custom = JSON.parse(data.commentsvcStrings || "{}");
    } catch (e) {}
    const O = { ...window.commentsvcStrings, ...custom };
    const S = { ...STRINGS, ...O };
    const t = (key, vars) => S[key].replace(/\{(\w+)\}/g, (m, n) => vars[n]);
    const lang = document.documentElement.lang || undefined;
    const canonical = document.querySelector("link[rel=canonical]");
    const pageUrl = canonical ? canonical.href : location.href.split("#")[0];
    const thread = data.commentsvcThread || new URL(pageUrl).pathname;
    const api = new URL(`api/v1/sites/${encodeURIComponent(site)}/comments`, BASE);
    const draftKey = `commentsvc:${site}:${thread}:draft`;
    const mineKey = `commentsvc:${site}:${thread}:mine`;
    // Edit tokens of the reader's comments: id -> {k: token, u: until, b: text}.
    const editKey = `commentsvc:${site}:${thread}:edit`;
    const sortKey = `commentsvc:${site}:sort`;
    const sessionKey = `commentsvc:${site}:session`;
    const guestKey = `commentsvc:${site}:guest`;
    // The site's own token for its signed-in user (docs/sso.md): its name is
    // read, not verified (the service verifies it with each post).
    const sso = data.commentsvcSso;
    let ssoName;
    try {
      const claims = sso.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      ssoName = JSON.parse(decodeURIComponent(escape(atob(claims)))).name; // UTF-8
    } catch (e) {}
    // Back from a sign-in (an e-mail link, a provider): the session is in the
    // fragment. Kept in this browser, and out of the address bar, history and
    // anything the reader copies; its name comes from /me.
    const back = /[#&]commentsvc-signin=([^&]+)/.exec(location.hash);
    if (back) {
      store.set(sessionKey, { t: decodeURIComponent(back[1]) });
      history.replaceState(history.state, "", location.href.split("#")[0]);
    }
    // {t: token, n: name} of a session, or the SSO reader; null: a guest.
    const reader = () => (sso ? { n: ssoName } : store.get(sessionKey));

    const root = host.attachShadow({ mode: "open" });
    adopt(root);
    const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
    const say = (text, bad) => {
      status.textContent = text || "";
      status.className = bad ? "status bad" : "status";
    };
    const retry = h("button", { type: "button", class: "link", hidden: true }, S.retry);
    retry.addEventListener("click", () => load());
    const count = h("h2", { part: "count" });
    const order = h("select", { "aria-label": S.sort, part: "sort", hidden: true },
      h("option", { value: "oldest" }, S.oldest), h("option", { value: "newest" }, S.newest));
    order.addEventListener("change", async () => {
      store.set(sortKey, order.value);
      const body = await page().catch(() => null);
      if (!body) return;
      comments = [];
      byId = {};
      moreReplies = {};
      fresh(body);
      render();
    });
    const list = h("div");
    const respond = h("div", { part: "form" });
    root.append(h("section", {}, h("div", { class: "top" }, count, order), list, respond, status, retry));

    let comments = [];
    let total = 0;
    let next;
    let moreReplies = {}; // top-level comment id -> cursor of its other replies
    let config;
    let mine = store.get(mineKey) || [];
    const edits = store.get(editKey) || {};
    for (const id in edits) if (edits[id].u < Date.now()) delete edits[id];
    store.set(editKey, edits);
    let byId = {};
    let parentId = null;
    let form;
    let closed;
    let off; // a guest who can only comment signed in to the site

    async function page(cursor) {
      const q = encodeURIComponent;
      const sort = store.get(sortKey);
      const res = await fetch(`${api}?thread=${q(thread)}${cursor ? `&cursor=${q(cursor)}` : ""}${sort ? `&sort=${sort}` : ""}`, {
        credentials: "omit",
      });
      const body = await res.json();
      if (!res.ok) throw Error(res.status);
      return body;
    }

    // Own comments now published, or a month old, are forgotten.
    function take(body, root) {
      const added = body.comments.filter((c) => !byId[c.id] || byId[c.id].mine);
      comments = comments.concat(added);
      total = body.count;
      if (!root) (next = body.next), Object.assign(moreReplies, body.more_replies);
      else if (!(moreReplies[root] = body.next)) delete moreReplies[root];
      const approved = new Set(comments.map((c) => c.id));
      const month = Date.now() - 30 * 864e5;
      mine = mine.filter((c) => !approved.has(c.id) && Date.parse(c.created_at) > month);
      store.set(mineKey, mine.length ? mine : null);
      return added;
    }

    async function load() {
      retry.hidden = true;
      say(S.loading);
      try {
        fresh(await page());
      } catch (e) {
        say(S.loadFailed, true);
        retry.hidden = false;
        return;
      }
      status.remove();
      retry.remove();
      // A closed thread: its comments, no form and no Reply (a draft stays stored).
      if (closed) close();
      else form = makeForm();
      render();
      if (form) form.restore();
      // Just back from a sign-in: the reader's name comes from /me.
      const who = reader();
      if (who && who.t && !who.n) use("auth").then((x) => x.me(ctx), () => {});
      addEventListener("hashchange", seek);
      seek();
    }

    function fresh(body) {
      take(body);
      config = body.config;
      config.sign_in = { guests: true, ...config.sign_in };
      order.value = body.sort;
      closed = body.closed;
      order.hidden = false;
    }

    // A permalink (#comment-123): embed-extra.js scrolls to the comment and
    // highlights it, loading later pages if it is not on this one.
    function seek() {
      const id = (/^#comment-(\d+)$/.exec(location.hash) || [])[1];
      if (id) use("extra").then((x) => x.find(ctx, id), () => {});
    }

    function close() {
      closed = true;
      parentId = form = null;
      respond.replaceChildren(h("p", { class: "note", role: "status", part: "closed" }, S.closed));
    }

    async function more(button, cursor, root) {
      button.disabled = true;
      let added;
      try {
        added = take(await page(cursor), root);
      } catch (e) {
        button.disabled = false;
        return (button.textContent = S.retry);
      }
      render();
      const first = added[0] && byId[added[0].id].el;
      if (first) (first.tabIndex = -1), first.focus();
    }

    function moreButton(text, cursor, root) {
      const button = h("button", { type: "button", class: "link", part: "more" }, text);
      button.addEventListener("click", () => more(button, cursor, root));
      return button;
    }

    function render() {
      const all = comments.concat(mine.map((c) => ({ ...c, mine: true })));
      byId = {};
      for (const c of all) byId[c.id] = c;
      const kids = {};
      // Replies nest max_reply_depth levels; deeper ones join the last level
      // and say whom they answer.
      const level = (c) => (byId[c.parent_id] ? 1 + level(byId[c.parent_id]) : 0);
      for (const c of all) {
        let p = byId[c.parent_id];
        c.to = null;
        while (p && level(p) >= (config.max_reply_depth || 4)) {
          c.to = byId[c.parent_id].author;
          p = byId[p.parent_id];
        }
        (kids[p ? p.id : 0] ||= []).push(c);
      }
      const n = total;
      count.textContent = n ? (n > 1 ? t("many", { n }) : S.one) : mine.length ? "" : S.none;
      count.hidden = !count.textContent;
      const tree = (id) => kids[id] && h("ol", {}, ...kids[id].map(item));
      const item = (c) => {
        const body = h("div", { class: "body" });
        if (c.mine) body.textContent = c.body;
        else if (c.deleted) body.textContent = S.deleted;
        else body.innerHTML = html(c.html);
        const when = new Date(c.created_at);
        const label = t("replyTo", { name: c.author });
        const button = (text, name) => later(text, "extra", name, c);
        const own = edits[c.id] && edits[c.id].u > Date.now();
        c.el = h(
          "li",
          { class: c.mine ? "mine" : null, part: "comment", id: `comment-${c.id}` },
          h(
            "article",
            {},
            h("span", { class: "who", part: "author" }, c.author),
            c.badge === "staff" && h("span", { class: "badge", part: "badge" }, S.staff),
            " ",
            h(
              "a",
              { href: `#comment-${c.id}` },
              h(
                "time",
                { datetime: c.created_at, part: "date" },
                when.toLocaleString(lang, { dateStyle: "long", timeStyle: "short" })
              )
            ),
            c.edited_at && h("span", { class: "note" }, " ", S.edited),
            c.to && h("span", { class: "note" }, " · ", t("inReplyTo", { name: c.to })),
            body,
            c.mine && h("p", { class: "note" }, c.status === "approved" ? S.published : S.pending),
            // Until a moderator approves it, readers (and so the listing) keep
            // the published text: p is that text, as the edit's answer gave it.
            own && edits[c.id].p !== undefined && edits[c.id].p === c.html && h("p", { class: "note" }, S.editPending),
            !c.mine && !c.deleted && !closed && !off &&
              h("button", { type: "button", class: "link", "aria-label": label,
                onclick: () => form.open(c) }, S.reply),
            !c.mine && !c.deleted && !own && button(S.report, "report"),
            own && button(S.edit, "edit"),
            own && button(S.remove, "remove")
          ),
          tree(c.id)
        );
        return c.el;
      };
      list.replaceChildren(tree(0) || "");
      for (const [root, cursor] of Object.entries(moreReplies)) {
        const button = moreButton(S.moreReplies, cursor, root);
        // An unpublished top-level comment's replies stand at the top level.
        (byId[root] ? byId[root].el : list).append(button);
      }
      if (next) list.append(moreButton(S.more, next, null));
      if (form) form.open(byId[parentId], true);
      else list.after(respond);
    }

    function makeForm() {
      const errors = {};
      const field = (name, label, input, required) => {
        const id = `f-${name}`;
        const err = (errors[name] = h("span", { class: "err", id: `${id}-e` }));
        Object.assign(input, { id, name, required });
        input.setAttribute("aria-describedby", err.id);
        input.setAttribute("part", "field");
        return h("p", {}, h("label", { for: id }, label, required ? " *" : ""), input, err);
      };
      const body = h("textarea", { rows: 6 });
      const author = h("input", { autocomplete: "name", maxlength: 100 });
      const email = h("input", { type: "email", autocomplete: "email", maxlength: 254 });
      // A guest's name and address, remembered from their last comment here.
      const guest = store.get(guestKey) || {};
      author.value = guest.n || "";
      email.value = guest.e || "";
      const website = h("input", { name: "website", tabindex: -1, autocomplete: "off" });
      // "Notify me of replies": offered once an email is typed (and mail is on).
      const notify = h("input", { type: "checkbox", name: "notify" });
      const nbox = h("p", { hidden: true }, h("label", { class: "check" }, notify, S.notify));
      const showNotify = () => (nbox.hidden = off || !(config.notify_replies && (reader() || email.value.trim())));
      email.addEventListener("input", showNotify);
      const send = h("button", { type: "submit", class: "send", part: "button" }, S.post);
      const again = h("button", { type: "button", class: "link", hidden: true }, S.retry);
      const cancel = h("button", { type: "button", class: "link", hidden: true }, S.cancel);
      const heading = h("span", {}, S.leave);
      const slot = h("div", { slot: "captcha" });
      // Who is writing: "Signed in as Ann" (and My account), or the guest's
      // fields (and Sign in where the site offers it).
      const bar = h("p", { part: "signin" });
      // Fields in the order the first problem takes focus.
      const comment = field("body", S.comment, body, true);
      const fields = h("div", {},
        field("author", S.name, author, true),
        field("email", S.email, email, config.require_email));
      function paint() {
        const who = reader();
        const signIn = config.sign_in;
        const way = signIn.email || signIn.oidc;
        fields.hidden = note.hidden = who || !signIn.guests;
        // A guest where only the site's own accounts comment: nothing to fill in.
        off = !who && !signIn.guests && !way;
        if (off) for (const x of el.children) x.hidden = x != bar && x != line;
        bar.replaceChildren(...[
          who ? t("signedInAs", { name: who.n || "…" }) : signIn.guests ? "" : off ? S.logIn : S.signInFirst,
          " ",
          who ? auth(S.account, "account") : way && auth(S.signIn, "chooser")].filter((x) => x));
        bar.hidden = !bar.textContent.trim();
        showNotify();
      }
      const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
      const note = h("p", { class: "note" }, S.note);
      const el = h(
        "form",
        { novalidate: true },
        note,
        comment,
        bar,
        fields,
        nbox,
        h("p", { class: "hp", "aria-hidden": "true" },
          h("label", {}, S.website, website)),
        h("slot", { name: "captcha" }),
        h("p", {}, send, again),
        line
      );
      respond.append(h("h3", { part: "reply-title" }, heading, cancel), el);
      host.append(slot); // third-party widgets live in the light DOM, shown in the slot
      const status = (text, bad) => {
        line.textContent = text || "";
        line.className = bad ? "status bad" : "status";
      };
      // The captcha widget, as a promise (embed-captcha.js loads on first use).
      let captcha;
      const widget = async () =>
        reader() && config.sign_in.skip_captcha ? null : (captcha ||= ctx.captcha(slot, status, () => submit()).catch((e) => {
          captcha = null;
          throw e;
        }));

      let ft;
      const draft = () => ({ b: body.value, a: author.value, e: email.value, p: parentId, f: ft });
      const save = () => {
        const d = draft();
        store.set(draftKey, d.b || d.a || d.e ? d : null);
      };
      el.addEventListener("input", save);
      // Per-reader things come on first interaction, never with the cached list:
      // the time-trap form token (spam check), and the captcha's script.
      // The token rides in the draft, so a restored draft keeps the time its
      // writing began.
      let formToken;
      const getFormToken = () =>
        (formToken = formToken || fetch(new URL("form-token", api), { method: "POST", credentials: "omit" })
          .then((r) => r.json()).then((j) => ((ft = j.token), save(), ft)).catch(() => (formToken = null)));
      el.addEventListener("focusin", () => {
        getFormToken();
        widget().then((w) => w && w.load()).catch(() => {});
      });
      el.addEventListener("keydown", (e) => e.key === "Escape" && parentId && open(null));
      cancel.addEventListener("click", () => open(null));
      again.addEventListener("click", () => submit());
      el.addEventListener("submit", (e) => {
        e.preventDefault();
        submit();
      });

      function open(parent, quiet) {
        parentId = parent ? parent.id : null;
        heading.textContent = parent ? t("leaveTo", { name: parent.author }) : S.leave;
        cancel.hidden = !parent;
        if (parent) parent.el.firstChild.append(respond);
        else list.after(respond);
        if (!quiet) {
          save();
          body.focus();
        }
      }

      function check() {
        const problems = {};
        const max = config.max_length;
        if (!body.value.trim()) problems.body = S.noComment;
        else if ([...body.value.trim()].length > max) problems.body = t("tooLong", { n: max });
        const guest = !reader();
        const guests = config.sign_in.guests;
        if (guest && guests) {
          if (!author.value.trim()) problems.author = S.noName;
          const mail = email.value.trim();
          if (mail && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(mail)) problems.email = S.badEmail;
          else if (!mail && config.require_email) problems.email = S.noEmail;
        }
        // A site without guests: nothing is sent before the reader signs in.
        return show(problems) && (guests || !guest || status(S.signInFirst, true));
      }

      function show(problems) {
        let first;
        for (const [name, err] of Object.entries(errors)) {
          const input = el.elements[name];
          err.textContent = problems[name] || "";
          input.setAttribute("aria-invalid", !!problems[name]);
          if (problems[name] && !first) first = input;
        }
        if (first) {
          status(S.fix, true);
          first.focus();
        }
        return !first;
      }

      let busy = false;
      async function submit(anyway) {
        if (busy || !check()) return;
        busy = send.disabled = true;
        again.hidden = true;
        status(S.posting);
        try {
          await post(false, anyway);
        } finally {
          busy = send.disabled = false;
        }
      }

      async function post(resent, anyway) {
        let token;
        let captcha;
        try {
          captcha = await widget();
          if (captcha) token = await captcha.token();
        } catch (e) {
          return status(e.message === "tick" ? S.tick : S.captchaFailed, true);
        }
        const who = reader();
        const payload = {
          thread,
          url: pageUrl,
          title: document.title.slice(0, 300) || undefined,
          parent_id: parentId || undefined,
          author: who ? who.n || "" : author.value,
          email: (!who && email.value) || undefined,
          sso_token: sso,
          body: body.value,
          captcha_token: token,
          website: website.value || undefined,
          form_token: (await getFormToken()) || undefined,
          notify: (!nbox.hidden && notify.checked) || undefined,
          post_anyway: anyway || undefined,
        };
        let res;
        let error = {};
        let answer = {};
        try {
          res = await fetch(api, {
            method: "POST",
            credentials: "omit",
            headers: { "Content-Type": "application/json",
              ...(who && who.t && !sso && { Authorization: `Bearer ${who.t}` }) },
            body: JSON.stringify(payload),
          });
          answer = await res.json().catch(() => ({}));
          error = answer.error || {};
        } catch (e) {
          res = { status: 0 };
        }
        // A token is good once: anything but a refusal before verification spends it.
        if (captcha && ![409, 422, 429].includes(res.status)) captcha.reset();
        // Closed meanwhile: nothing was spent or stored; the draft stays.
        if (error.code === "thread_closed") return close(), render();
        // Asked to reconsider (nothing stored or spent): Edit, or Post anyway.
        if (error.code === "may_break_rules") {
          status("");
          return use("extra").then((x) => x.nudge(ctx, line, error, body, () => submit(true)),
            () => status(error.message, true));
        }
        if (res.status === 202) {
          formToken = ft = null; // good for one comment
          return posted(payload, answer);
        }
        if (error.code === "captcha_expired" && !resent) {
          if (captcha && captcha.box) {
            captcha.sendOnTick();
            return status(S.tickAgain, true);
          }
          return post(true);
        }
        if (res.status === 422) {
          show(error.fields || {});
          const known = Object.keys(error.fields || {}).every((k) => errors[k]);
          return status(known ? S.fix : Object.values(error.fields || {})[0] || S.fix, true);
        }
        if (res.status === 429) {
          // Worded by embed-extra.js ("in 42 seconds", in the page's language).
          const wait = error.retry_after || +res.headers.get("Retry-After") || 60;
          return use("extra").then((x) => status(x.wait(ctx, wait), true), () => status(error.message, true));
        }
        if (res.status === 0 || res.status >= 500) {
          again.hidden = false;
          return status(S.offline, true);
        }
        if (error.code && error.code.startsWith("captcha")) return status(S.captchaFailed, true);
        // Refused who the reader is (embed-auth.js words it, and asks to sign in).
        if (/^(sso_|sign_in|account_|session_)/.test(error.code)) {
          return use("auth").then((x) => x.refused(ctx, error, status), () => status(error.message, true));
        }
        status(error.message || S.failed, true);
      }

      function posted(payload, answer) {
        if (!reader()) store.set(guestKey, { n: author.value.trim(), e: email.value.trim() });
        if (answer.edit_token) {
          edits[answer.id] = { k: answer.edit_token, u: Date.parse(answer.edit_until), b: payload.body.trim() };
          store.set(editKey, edits);
        }
        mine.push({
          id: answer.id,
          parent_id: payload.parent_id || null,
          author: (payload.author || "").trim(),
          body: payload.body.trim(),
          created_at: new Date().toISOString(),
          status: answer.status,
        });
        store.set(mineKey, mine);
        body.value = "";
        parentId = null;
        store.set(draftKey, null);
        render();
        const shown = byId[answer.id].el;
        shown.setAttribute("tabindex", -1);
        // The comment itself says it awaits moderation: said once.
        status(answer.status === "approved" ? S.published : "");
        shown.focus();
      }

      function restore() {
        const d = store.get(draftKey);
        if (!d) return;
        if (d.f) formToken = Promise.resolve((ft = d.f));
        body.value = d.b || "";
        author.value = d.a || "";
        email.value = d.e || "";
        showNotify();
        if (byId[d.p] && !byId[d.p].mine) open(byId[d.p], true);
        if (d.b) status(S.restored);
      }

      paint();
      return { open, restore, paint, bar, status };
    }

    // A button whose work is in a script loaded on first use: x[name](ctx, c).
    const later = (text, script, name, c) =>
      h("button", { type: "button", class: "link", onclick: () => use(script).then((x) => x[name](ctx, c), () => {}) }, text);
    const auth = (text, name) => later(text, "auth", name);

    // What embed-extra.js, embed-captcha.js and embed-auth.js work with (docs/embed.md).
    const ctx = {
      O, S, h, t, root, host, data, api, edits, render, page, take, url: scriptUrl,
      adopt: (css) => adopt(root, css),
      // A captcha widget for another form (a report), as the post form's.
      // A promise of it: null when the site has no captcha.
      captcha: async (slot, say, resend) =>
        config.captcha.provider === "none" ? null : (await use("captcha"))(ctx, config.captcha, slot, say, resend),
      s: () => ({ next, moreReplies, byId, comments, mine }),
      less: () => total--,
      site, sso, reader, config: () => config,
      // The reader's session ({t, n}; null: signed out), then the form says so.
      session(value) {
        store.set(sessionKey, value);
        if (form) form.paint();
      },
      // The form's sign-in line, and its status line (null: no form).
      bar: () => form && form.bar,
      say: (text, bad) => form && form.status(text, bad),
      save() {
        store.set(editKey, edits);
        store.set(mineKey, mine.length ? mine : null);
      },
    };

    load();
  }

  const start = () =>
    document.querySelectorAll(":not(script)[data-commentsvc-site]").forEach((el) => el.shadowRoot || mount(el));
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
