/*! commentsvc embed, reader features: report, edit, delete, find a linked comment,
 * and the nudge to reconsider a comment likely to be rejected.
 * Loaded by embed.js on first use, never with the page. Documented in docs/embed.md. */
(() => {
  "use strict";
  // Defaults of the strings used here; a site overrides them as embed.js's
  // (window.commentsvcStrings, data-commentsvc-strings).
  const STRINGS = {
    reportTitle: "Why are you reporting this comment?",
    spam: "Spam",
    abuse: "Abuse or harassment",
    off_topic: "Off-topic",
    illegal: "Illegal content",
    explanation: "Explanation (required for illegal content)",
    explainIllegal: "Please explain why this content is illegal.",
    sendReport: "Send report",
    close: "Cancel",
    reported: "Thank you: the moderators will look at this comment.",
    reportCaptcha: "Please solve the captcha, then send the report again. What you wrote is kept.",
    reportTick: "Please confirm that you are not a robot.",
    reportCaptchaFailed: "The captcha could not be verified. Please try again.",
    reportLater: "Many reports came from your network lately. Please try again in an hour.",
    gone: "This comment is no longer published.",
    tooFast: "Too many requests. Please try again in a few minutes.",
    editLabel: "Your comment",
    save: "Save",
    noComment: "Please enter your comment!",
    editClosed: "The time to change this comment is over.",
    editRefused: "This browser can no longer change this comment.",
    confirmDelete: "Delete your comment? This cannot be undone.",
    unreachable: "The comment service could not be reached. Please try again.",
    mayBreakRules:
      "Your comment may break this site's rules. Edit it, or post it anyway for a moderator to decide.",
    nudgeWords: "Words that count against it:",
    postAnyway: "Post anyway",
    edit: "Edit",
    rateLimited: "You are posting too quickly. Please try again {when}.",
  };
  const CSS =
    ".hl>article{outline:2px solid var(--a);outline-offset:4px}" +
    ".panel{margin:.75em 0;padding:.75em;border:1px solid var(--bd);border-radius:var(--r)}" +
    "fieldset{border:0;margin:0;padding:0}legend{font-weight:600;margin-bottom:.25em}" +
    ".panel .opt{font-weight:400}.panel .opt input{width:auto;margin:0 .5em 0 0}";

  function setup(ctx) {
    ctx.adopt(CSS);
    return { ...STRINGS, ...ctx.O };
  }

  // [HTTP status (0: no answer), JSON body].
  async function call(url, method, body, headers) {
    try {
      const res = await fetch(url, {
        method,
        credentials: "omit",
        headers: { "Content-Type": "application/json", ...headers },
        body: body && JSON.stringify(body),
      });
      return [res.status, res.status === 204 ? {} : await res.json().catch(() => ({}))];
    } catch (e) {
      return [0, {}];
    }
  }

  // A random token of this browser: one report per reader and comment.
  function browserToken() {
    const key = "commentsvc:token";
    let token;
    try {
      token = localStorage.getItem(key);
      if (!token) {
        token = [...crypto.getRandomValues(new Uint8Array(16))]
          .map((b) => b.toString(16).padStart(2, "0"))
          .join("");
        localStorage.setItem(key, token);
      }
    } catch (e) {} // storage disabled: the network alone counts
    return token || undefined;
  }

  function problem(S, code, answer) {
    const error = answer.error || {};
    if (code === 429) return S.tooFast;
    if (code === 404) return S.gone;
    if (code === 422) return Object.values(error.fields || {})[0] || error.message;
    if (error.code === "edit_window_closed") return S.editClosed;
    if (code === 403) return S.editRefused;
    return code ? error.message || S.unreachable : S.unreachable;
  }

  // A small form under a comment (only one at a time per comment).
  function panel(ctx, c, label, ...kids) {
    const { h } = ctx;
    const article = c.el.firstChild;
    const open = article.querySelector(".panel");
    if (open) return open.querySelector("textarea, input").focus();
    const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
    const close = h("button", { type: "button", class: "link" }, setup(ctx).close);
    const send = h("button", { type: "submit", class: "send" }, label);
    const form = h("form", { class: "panel", novalidate: true }, ...kids, h("p", {}, send, close), line);
    close.addEventListener("click", () => {
      form.remove();
      article.querySelector(".body").hidden = false;
    });
    return { form, line, send, article };
  }

  function report(ctx, c) {
    const S = setup(ctx);
    const { h } = ctx;
    const name = `reason-${c.id}`;
    const why = h("textarea", { rows: 3, id: `why-${c.id}`, maxlength: 2000 });
    const options = ["spam", "abuse", "off_topic", "illegal"].map((value, i) =>
      h("label", { class: "opt" }, h("input", { type: "radio", name, value, checked: i === 0 }), S[value])
    );
    const p = panel(
      ctx,
      c,
      S.sendReport,
      h("fieldset", {}, h("legend", {}, S.reportTitle), ...options),
      h("label", { for: why.id }, S.explanation),
      why
    );
    if (!p) return;
    // The service asks a network that reports often for the site's captcha:
    // its widget is then shown in the form (in the page's light DOM, through a
    // slot, as the post form's), and the reader's choices stay as they are.
    let captcha;
    let light;
    const say = (text) => (p.line.textContent = text || "");
    const forget = () => light && light.remove();
    p.form.querySelector("button.link").addEventListener("click", forget);
    async function showCaptcha() {
      const slot = `report-captcha-${c.id}`;
      light = h("div", { slot });
      // embed-captcha.js, loaded now if the post form has not yet.
      captcha = await ctx.captcha(light, say, () => send(true)).catch(() => null);
      if (!captcha) return false;
      ctx.host.append(light);
      p.send.parentNode.before(h("slot", { name: slot }));
      captcha.load().catch(() => {});
      return true;
    }
    async function send(resent) {
      const reason = p.form.elements[name].value;
      const explanation = why.value.trim() || undefined;
      why.setAttribute("aria-invalid", reason === "illegal" && !explanation);
      if (reason === "illegal" && !explanation) {
        say(S.explainIllegal);
        return why.focus();
      }
      let captchaToken;
      if (captcha) {
        try {
          captchaToken = await captcha.token();
        } catch (e) {
          return say(e.message === "tick" ? S.reportTick : S.reportCaptchaFailed);
        }
      }
      p.send.disabled = true;
      const [code, answer] = await call(`${ctx.api}/${c.id}/reports`, "POST", {
        reason,
        explanation,
        token: browserToken(),
        captcha_token: captchaToken,
      });
      p.send.disabled = false;
      // A token is good once: anything but a refusal before verification spends it.
      if (captcha && code !== 422 && code !== 429) captcha.reset();
      if (code === 202) {
        forget();
        p.form.replaceChildren(p.line);
        return say(S.reported);
      }
      const error = answer.error || {};
      if (code === 403 && (error.code || "").startsWith("captcha")) {
        if (!captcha && !(await showCaptcha())) return say(error.message);
        if (captcha.box) {
          captcha.sendOnTick();
          return say(error.code === "captcha_required" ? S.reportCaptcha : S.reportCaptchaFailed);
        }
        // An invisible captcha or v3: a fresh token at once, one retry.
        if (!resent) return send(true);
        return say(S.reportCaptchaFailed);
      }
      if (code === 429 && (error.retry_after || 0) > 300) return say(S.reportLater);
      say(problem(S, code, answer));
    }
    p.form.addEventListener("submit", (e) => {
      e.preventDefault();
      send(false);
    });
    p.article.append(p.form);
    p.form.elements[name][0].focus();
  }

  function edit(ctx, c) {
    const S = setup(ctx);
    const mine = ctx.edits[c.id];
    const area = ctx.h("textarea", { rows: 5, "aria-label": S.editLabel });
    area.value = c.mine ? c.body : mine.b || "";
    const p = panel(ctx, c, S.save, area);
    if (!p) return;
    const body = p.article.querySelector(".body");
    p.form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = area.value.trim();
      if (!text) {
        p.line.textContent = S.noComment;
        return area.focus();
      }
      p.send.disabled = true;
      const [code, answer] = await call(`${ctx.api}/${c.id}`, "PATCH", { body: text, edit_token: mine.k });
      p.send.disabled = false;
      if (code !== 200) {
        if (code === 403) delete ctx.edits[c.id], ctx.save();
        return (p.line.textContent = problem(S, code, answer));
      }
      mine.b = text;
      mine.p = answer.edit_pending ? answer.html : undefined;
      const { comments, mine: own } = ctx.s();
      const listed = comments.find((x) => x.id === c.id);
      const held = own.find((x) => x.id === c.id);
      if (answer.status === "approved" && listed) {
        Object.assign(listed, { html: answer.html, edited_at: answer.edited_at });
      } else if (held) {
        Object.assign(held, { body: text, status: answer.status, edited_at: answer.edited_at });
      } else {
        // Held again by the spam rules: shown as the reader's own, pending.
        comments.splice(comments.indexOf(listed), 1);
        ctx.less();
        own.push({ id: c.id, parent_id: c.parent_id, author: c.author, body: text,
          created_at: c.created_at, status: "pending" });
      }
      ctx.save();
      ctx.render();
      focus(ctx, c.id);
    });
    body.hidden = true;
    body.after(p.form);
    area.focus();
  }

  async function remove(ctx, c) {
    const S = setup(ctx);
    if (!confirm(S.confirmDelete)) return;
    const [code, answer] = await call(`${ctx.api}/${c.id}`, "DELETE", null, {
      "X-Edit-Token": ctx.edits[c.id].k,
    });
    if (code !== 204 && code !== 404) {
      const line = ctx.h("p", { class: "status bad", role: "alert" }, problem(S, code, answer));
      return c.el.firstChild.append(line);
    }
    delete ctx.edits[c.id];
    const { comments, mine, byId } = ctx.s();
    const i = mine.findIndex((x) => x.id === c.id);
    if (i >= 0) mine.splice(i, 1);
    if (comments.includes(c)) {
      ctx.less();
      // Its replies stay, under a placeholder.
      if (Object.values(byId).some((x) => x.parent_id === c.id)) {
        Object.assign(c, { deleted: true, author: "", edited_at: null });
      } else comments.splice(comments.indexOf(c), 1);
    }
    ctx.save();
    ctx.render();
  }

  function focus(ctx, id) {
    const c = ctx.s().byId[id];
    if (!c) return;
    c.el.tabIndex = -1;
    c.el.focus({ preventScroll: true });
    return c;
  }

  // A permalink: follow the listing's cursors (later pages first, then the
  // cut replies) until the comment is there, at most 30 requests.
  async function find(ctx, id) {
    setup(ctx);
    for (let n = 0; n < 30 && !ctx.s().byId[id]; n++) {
      const { next, moreReplies } = ctx.s();
      const root = next ? null : Object.keys(moreReplies)[0];
      const cursor = next || moreReplies[root];
      if (!cursor) break;
      try {
        ctx.take(await ctx.page(cursor), root);
      } catch (e) {
        break;
      }
      ctx.render();
    }
    for (const el of ctx.root.querySelectorAll(".hl")) el.classList.remove("hl");
    const c = focus(ctx, id);
    if (!c) return;
    c.el.classList.add("hl");
    c.el.scrollIntoView({ block: "center" });
  }

  // The site asks the reader to reconsider a comment likely to be rejected
  // (409 may_break_rules: nothing was stored or spent). "Edit" keeps the text
  // and puts the reader back in it; "Post anyway" sends it with post_anyway.
  function nudge(ctx, line, error, body, anyway) {
    const S = setup(ctx);
    const h = ctx.h;
    const form = line.parentNode;
    for (const old of form.querySelectorAll(".nudge")) old.remove();
    const words = (error.words || []).slice(0, 6).map((w) => `“${w}”`).join(", ");
    const editButton = h("button", { type: "button", class: "send", part: "button" }, S.edit);
    const anywayButton = h("button", { type: "button", class: "link" }, S.postAnyway);
    const panel = h(
      "div",
      { class: "panel nudge", role: "alert" },
      h("p", {}, S.mayBreakRules),
      words && h("p", { class: "note" }, `${S.nudgeWords} ${words}`),
      h("p", {}, editButton, " ", anywayButton)
    );
    editButton.addEventListener("click", () => {
      panel.remove();
      body.focus();
    });
    anywayButton.addEventListener("click", () => {
      panel.remove();
      anyway();
    });
    // Gone once the reader changes the text: the next post is judged afresh.
    body.addEventListener("input", () => panel.remove(), { once: true });
    line.after(panel);
    editButton.focus();
  }

  // A post refused 429: when to try again ("in 42 seconds", "in 3 minutes").
  function wait(ctx, seconds) {
    const S = setup(ctx);
    const when = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });
    const later = seconds > 90 ? when.format(Math.ceil(seconds / 60), "minute") : when.format(seconds, "second");
    return S.rateLimited.replace("{when}", later);
  }

  window.commentsvcExtra = { report, edit, remove, find, nudge, wait };
})();
