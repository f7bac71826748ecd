// Keyboard shortcuts and bulk selection for the moderation queue. The page works
// without this script: every action is a plain form button.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("article.comment"));
  var help = document.getElementById("help");
  var current = -1;
  var KEYS = { a: "approve", r: "reject", s: "spam", d: "delete" };

  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, i) { row.classList.toggle("current", i === current); });
    rows[current].focus();
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function act(name) {
    var row = rows[current];
    if (!row) return;
    var button = row.querySelector('button[data-action="' + name + '"]');
    if (button) button.click();
  }

  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) return;
    var key = event.key;
    if (key === "j") focusRow(current + 1);
    else if (key === "k") focusRow(current - 1);
    else if (KEYS[key]) { if (current < 0) focusRow(0); act(KEYS[key]); }
    else if (key === "x" && rows[current]) {
      var box = rows[current].querySelector('input[name="selected"]');
      if (box) box.checked = !box.checked;
    } else if (key === "?" && help) { help.open ? help.close() : help.showModal(); }
    else return;
    event.preventDefault();
  });

  rows.forEach(function (row, i) {
    row.addEventListener("click", function () { current = i; });
  });

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      rows.forEach(function (row) {
        var box = row.querySelector('input[name="selected"]');
        if (box) box.checked = all.checked;
      });
    });
  }
  var helpButton = document.querySelector("[data-help]");
  if (helpButton && help) helpButton.addEventListener("click", function () { help.showModal(); });
  if (rows.length) focusRow(0);
})();
