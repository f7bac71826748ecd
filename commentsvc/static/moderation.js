// The review queue, made for speed: keyboard shortcuts, the selected count,
// the next comment focused after each decision made in place (htmx), the
// Undo button's few seconds and the keyboard help dialog. The page works
// without this script: every action is a plain form button and a redirect.
(function () {
  "use strict";
  var KEYS = { a: "approve", r: "reject", s: "spam", d: "delete" };
  var decisions = document.getElementById("decisions");
  var help = document.getElementById("help");
  var currentId = null;
  var decided = null; // { id, index } of the card a decision was asked for
  var opener = null; // what had focus before the help dialog opened

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#decisions article.comment"));
  }

  function indexOf(id) {
    var all = rows();
    for (var i = 0; i < all.length; i++) if (all[i].id === id) return i;
    return -1;
  }

  function focusRow(index, quiet) {
    var all = rows();
    if (!all.length) { currentId = null; return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle("current", i === index); });
    currentId = all[index].id;
    // On load the page stays at its top (tabs, filters, the first card).
    all[index].focus({ preventScroll: true });
    if (!quiet) all[index].scrollIntoView({ block: "nearest" });
  }

  function currentRow() {
    return currentId ? document.getElementById(currentId) : null;
  }

  function act(name) {
    var row = currentRow();
    // A decision on its way: a second key press must not decide twice.
    if (!row || row.dataset.busy) return;
    var button = row.querySelector('button[data-action="' + name + '"]');
    if (button) button.click();
  }

  function typing(event) {
    var t = event.target;
    if (!t) return false;
    if (t.tagName === "INPUT") return !/^(checkbox|radio|submit|button)$/.test(t.type);
    return t.isContentEditable || /^(TEXTAREA|SELECT)$/.test(t.tagName);
  }

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('#decisions input[name="selected"]'));
  }

  function updateSelected() {
    var all = boxes();
    var ticked = all.filter(function (box) { return box.checked; }).length;
    var output = document.getElementById("selected-count");
    if (output) output.textContent = ticked + " selected";
    document.querySelectorAll("#decisions button[data-bulk]").forEach(function (button) {
      button.disabled = ticked === 0;
    });
    var selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.checked = all.length > 0 && ticked === all.length;
      selectAll.indeterminate = ticked > 0 && ticked < all.length;
    }
  }

  function openHelp() {
    if (!help || help.open) return;
    opener = document.activeElement;
    help.showModal();
    var close = help.querySelector("[data-close]");
    if (close) close.focus();
  }

  function undoButton() {
    return document.querySelector(".flashes button[data-undo]");
  }

  // The Undo button lives as long as the server accepts the undo.
  function expireUndo() {
    var button = undoButton();
    if (!button || button.dataset.timer) return;
    var seconds = parseInt(button.dataset.seconds || "10", 10);
    button.dataset.timer = "1";
    window.setTimeout(function () {
      if (!button.isConnected) return;
      // The message goes with its Undo (a toast that lingers hides cards).
      var message = button.closest(".flash");
      if (message && message.classList.contains("info")) message.remove();
      else button.remove();
    }, seconds * 1000);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    if (help && help.open) return; // the dialog handles its own keys (Esc)
    var key = event.key;
    var index = indexOf(currentId);
    if (key === "j") focusRow(index + 1);
    else if (key === "k") focusRow(index - 1);
    else if (KEYS[key]) { if (index < 0) focusRow(0); act(KEYS[key]); }
    else if (key === "x" && currentRow()) {
      var box = currentRow().querySelector('input[name="selected"]');
      if (box) { box.checked = !box.checked; updateSelected(); }
    } else if (key === "u" && undoButton()) undoButton().click();
    else if (key === "?") openHelp();
    else return;
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var row = event.target.closest && event.target.closest("#decisions article.comment");
    if (row) currentId = row.id;
    var button = event.target.closest && event.target.closest("button[data-action]");
    if (button && row) {
      if (window.htmx) row.dataset.busy = "1";
      decided = { id: row.id, index: indexOf(row.id) };
    }
    if (event.target.closest && event.target.closest("[data-help]")) openHelp();
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.id === "select-all") {
      boxes().forEach(function (box) { box.checked = target.checked; });
    }
    if (target.id === "select-all" || target.name === "selected") updateSelected();
  });

  // After a decision made in place: the next comment gets the focus (the
  // decided card left the tab, so the next one now sits at its index).
  document.addEventListener("htmx:afterRequest", function (event) {
    var source = event.detail && event.detail.elt;
    var isUndo = source && (source.id === "undo" || source.form && source.form.id === "undo");
    window.setTimeout(function () {
      updateSelected();
      updateBadges();
      expireUndo();
      document.querySelectorAll("#decisions article.comment[data-busy]").forEach(function (row) {
        delete row.dataset.busy; // a failed request leaves the card as it was
      });
      if (isUndo) {
        var restored = document.querySelector("#decisions article.comment.restored") || null;
        if (restored) focusRow(indexOf(restored.id));
        return;
      }
      if (!decided) {
        if (!currentRow() || !currentRow().matches("article.comment")) focusRow(0);
        return;
      }
      var still = document.getElementById(decided.id);
      var kept = still && still.matches("article.comment");
      var conflict = kept && still.querySelector(".conflict");
      var index = kept && !conflict ? indexOf(decided.id) + 1 : decided.index;
      if (conflict) index = indexOf(decided.id);
      decided = null;
      focusRow(index);
    }, 0);
  });

  // The Reason is for one decision: once the server says a decision was made
  // ("decided"), the field is emptied, unless the moderator has already typed
  // another reason for the next one meanwhile.
  var reasonSent = null;
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("#decisions")) {
      reasonSent = event.detail.parameters.reason || "";
    }
  });
  document.addEventListener("decided", function () {
    var reason = document.getElementById("reason");
    if (reason && reasonSent !== null && reason.value === reasonSent) reason.value = "";
    reasonSent = null;
  });

  // The top bar's pending badge follows the Pending tab's count.
  function updateBadges() {
    var count = document.querySelector('#queue-tabs a[href*="status=pending"] .count');
    if (!count) return;
    document.querySelectorAll('.badge[title="pending comments"]').forEach(function (badge) {
      badge.textContent = count.textContent;
    });
  }

  // A card to put back that is not on this page (the page was loaded after
  // the decision): show the queue as it is now.
  document.addEventListener("htmx:oobErrorNoTarget", function () {
    window.location.reload();
  });

  if (help) {
    help.addEventListener("close", function () {
      if (opener && opener.focus) opener.focus();
      opener = null;
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    help.addEventListener("click", function (event) {
      if (event.target === help) help.close();
    });
  }

  updateSelected();
  expireUndo();
  if (rows().length) focusRow(0, true);
})();
