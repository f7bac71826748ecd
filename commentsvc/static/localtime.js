/* Shows every <time datetime="…" data-local> in the moderator's own time zone
   ("30 Nov 2026, 14:05 CET"). The server writes UTC, which stays as the title
   and as the text when this script does not run. */
(function () {
  "use strict";

  var format = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });

  function localize(root) {
    var times = (root || document).querySelectorAll("time[data-local]");
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      if (el.dataset.localized) continue;
      var value = el.getAttribute("datetime") || "";
      // Naive ISO times from the database are UTC.
      if (!/(Z|[+-]\d\d:?\d\d)$/.test(value)) value += "Z";
      var when = new Date(value);
      if (isNaN(when.getTime())) continue;
      if (!el.title) el.title = el.textContent.trim();
      el.textContent = format.format(when);
      el.dataset.localized = "1";
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { localize(document); });
  } else {
    localize(document);
  }
  // Content htmx swaps in is localized too.
  document.addEventListener("htmx:load", function (event) {
    localize(event.target && event.target.querySelectorAll ? event.target : document);
  });
})();
