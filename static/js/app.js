// Judges' pages: never lose a typed mark. No inline script anywhere (the CSP forbids it).
(function () {
  "use strict";
  var PENDING = "scoring:pending";

  function randomToken() {
    // crypto.randomUUID needs HTTPS; a hall's Wi-Fi often serves plain HTTP.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function pending() {
    try { return JSON.parse(window.localStorage.getItem(PENDING) || "{}"); }
    catch (e) { return {}; }
  }

  function setPending(all) {
    try { window.localStorage.setItem(PENDING, JSON.stringify(all)); } catch (e) { /* full */ }
  }

  function remember(form) {
    var all = pending();
    all[form.getAttribute("hx-post")] = {
      value: form.elements.value.value, token: form.elements.token.value,
      version: form.elements.version.value
    };
    setPending(all);
  }

  function forget(form) {
    var all = pending();
    delete all[form.getAttribute("hx-post")];
    setPending(all);
  }

  function markForm(target) {
    return target && target.closest ? target.closest("form.mark-form") : null;
  }

  function showStatus(form, text, state) {
    var row = form.closest(".mark-row");
    if (!row) { return; }
    row.classList.remove("state-saved", "state-invalid", "state-conflict");
    row.classList.add(state);
    var status = row.querySelector(".status");
    if (status) { status.textContent = text; }
  }

  function retryLater(form) {
    var tries = Number(form.dataset.tries || 0) + 1;
    form.dataset.tries = String(tries);
    var delay = Math.min(1000 * Math.pow(2, tries - 1), 15000);
    window.setTimeout(function () {
      if (document.body.contains(form)) { window.htmx.trigger(form, "retry"); }
    }, delay);
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = document.querySelector('meta[name="csrf-token"]');
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
    // A board poll says which version it shows; the server answers 304 while unchanged.
    var etag = event.detail.elt.dataset && event.detail.elt.dataset.etag;
    if (etag) { event.detail.headers["If-None-Match"] = '"' + etag + '"'; }
  });

  // Each edit of a mark gets its own token; a retry of the same edit reuses it, so the
  // server recognises it and never makes a second revision.
  document.addEventListener("input", function (event) {
    var form = markForm(event.target);
    if (form && event.target.name === "value") {
      form.elements.token.value = randomToken();
      form.dataset.tries = "0";
    }
  });

  // A judgement row: a tap on a level button puts the level in the row's `value` (hidden),
  // as if typed (a fresh token: the input event above), and saves it as a typed mark is saved
  // (the form's change event). The level chosen shows pressed.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".level-button") : null;
    var form = markForm(button);
    if (!button || !form || button.disabled) { return; }
    var field = form.elements.value;
    Array.prototype.forEach.call(form.querySelectorAll(".level-button"), function (other) {
      other.setAttribute("aria-pressed", other === button ? "true" : "false");
    });
    if (field.value === button.dataset.level) { return; }  // already this level
    field.value = button.dataset.level;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // A level put back into a judgement row by other code (a save kept while offline, sent
  // again) shows pressed when it is sent.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = markForm(event.detail.elt);
    if (!form || !form.querySelector(".level-button")) { return; }
    var level = form.elements.value.value;
    Array.prototype.forEach.call(form.querySelectorAll(".level-button"), function (button) {
      button.setAttribute("aria-pressed", button.dataset.level === level ? "true" : "false");
    });
  });

  // A measurement row shows at once the mark its value gives: the first band that holds it,
  // else 0. For the eye only: the server works the mark out again when it saves the value.
  function bandMark(input) {
    var shown = input.form && input.form.querySelector(".band-mark");
    if (!shown || !input.dataset.bands) { return; }
    var text = input.value.trim().replace(/[\uFF10-\uFF19]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFF10 + 48);
    }).replace(/[\uFF0E\u3002]/g, ".");
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text)) { shown.textContent = ""; return; }
    var value = Number(text), mark = "0";
    var bands = JSON.parse(input.dataset.bands);
    for (var i = 0; i < bands.length; i += 1) {
      if (Number(bands[i][0]) <= value && value <= Number(bands[i][1])) { mark = bands[i][2]; break; }
    }
    shown.textContent = shown.dataset.template.replace("MARK", mark);
  }
  document.addEventListener("input", function (event) {
    if (event.target.dataset && event.target.dataset.bands !== undefined) { bandMark(event.target); }
  });

  // Enter moves on to the next mark, which saves this one (its change event).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.classList.contains("mark-input")) { return; }
    event.preventDefault();
    var inputs = Array.prototype.slice.call(document.querySelectorAll(".mark-input:not([disabled])"));
    var next = inputs[inputs.indexOf(event.target) + 1];
    if (next) { next.focus(); next.select(); } else { event.target.blur(); }
  });

  function failed(event) {
    var form = markForm(event.detail.elt);
    if (!form) { return; }
    remember(form);
    showStatus(form, document.body.dataset.msgUnsaved, "state-unsaved");
    retryLater(form);
  }
  document.addEventListener("htmx:sendError", failed);
  document.addEventListener("htmx:timeout", failed);

  document.addEventListener("htmx:responseError", function (event) {
    var form = markForm(event.detail.elt);
    var xhr = event.detail.xhr;
    if (xhr.status === 401) {
      if (form) { remember(form); showStatus(form, document.body.dataset.msgExpired, "state-unsaved"); }
      var banner = document.getElementById("session-banner");
      if (banner) { banner.hidden = false; }
      return;
    }
    if (xhr.status >= 500 || xhr.status === 0) { failed(event); return; }
    if (form) {
      forget(form);
      showStatus(form, document.body.dataset.msgRefused + ": " + (xhr.responseText || xhr.status).toString().slice(0, 200), "state-refused");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = markForm(event.detail.elt);
    if (form && event.detail.successful) { forget(form); }
  });

  // Back after signing in again: put back what was typed and save it (same token).
  document.addEventListener("DOMContentLoaded", function () {
    var all = pending();
    Array.prototype.forEach.call(document.querySelectorAll("form.mark-form"), function (form) {
      var saved = all[form.getAttribute("hx-post")];
      if (!saved) { return; }
      form.elements.value.value = saved.value;
      form.elements.token.value = saved.token;
      form.elements.version.value = saved.version;
      showStatus(form, document.body.dataset.msgUnsaved, "state-unsaved");
      window.setTimeout(function () { window.htmx.trigger(form, "retry"); }, 300);
    });
  });

  window.addEventListener("online", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".state-unsaved form.mark-form"), function (form) {
      window.htmx.trigger(form, "retry");
    });
  });

  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector(".state-unsaved")) { event.preventDefault(); event.returnValue = ""; }
  });

  // A long import or export says it is working, and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.busy || event.defaultPrevented) { return; }
    var button = form.querySelector("button[type=submit]");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
      button.textContent = form.dataset.busy;
    }
    form.classList.add("busy");
  });

  // --- the public boards -------------------------------------------------------------------
  var shown = {};  // row id -> "rank|total" before the last swap

  document.addEventListener("htmx:beforeSwap", function (event) {
    var panel = event.detail.elt;
    if (!panel.hasAttribute || !panel.hasAttribute("data-poll")) { return; }
    shown = {};
    Array.prototype.forEach.call(panel.querySelectorAll("tr[data-key]"), function (row) {
      shown[row.id] = row.dataset.key;
    });
  });

  // htmx:load fires on the new panel once it is in the page (an outerHTML swap replaces
  // the old one, which is detached by then).
  document.addEventListener("htmx:load", function (event) {
    var panel = event.detail.elt;
    if (!panel.hasAttribute || !panel.hasAttribute("data-poll")) { return; }
    // A row whose rank or total changed flashes briefly.
    Array.prototype.forEach.call(panel.querySelectorAll("tr[data-key]"), function (row) {
      if (row.id in shown && shown[row.id] !== row.dataset.key) {
        row.classList.add("changed");
        window.setTimeout(function () { row.classList.remove("changed"); }, 4000);
      }
    });
    markMine();
    startPager();
  });

  // Switching the language keeps the row found: the fragment rides along the redirect.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".languages a[href]");
    if (link && window.location.hash) {
      link.href = link.href.split("#")[0] + window.location.hash;
    }
  });

  // The row of a bib as a person types it: "6" finds bib 06.
  function findRow(wanted) {
    var found = null;
    Array.prototype.forEach.call(document.querySelectorAll("tr[id^='bib-']"), function (row) {
      var bib = row.id.slice(4);
      if (bib === wanted || (/^\d+$/.test(wanted) && /^\d+$/.test(bib) && Number(bib) === Number(wanted))) {
        found = row;
      }
    });
    return found;
  }

  function markMine() {
    var id = window.location.hash.slice(1);
    var row = id && document.getElementById(id);
    if (!row && id.indexOf("bib-") === 0) {
      // A link written by hand (#bib-6 for bib 06) leads where the find box would.
      var wanted = id.slice(4);
      try { wanted = decodeURIComponent(wanted); } catch (error) { /* kept as written */ }
      row = findRow(wanted);
      if (row) {
        window.history.replaceState(null, "", "#" + row.id);
        row.scrollIntoView({block: "center"});
      }
    }
    if (row) { row.classList.add("mine"); }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("find-bib")) { return; }
    event.preventDefault();
    Array.prototype.forEach.call(document.querySelectorAll("tr.mine"), function (row) {
      row.classList.remove("mine");
    });
    var found = findRow(form.elements.bib.value.trim());
    var result = form.querySelector(".find-result");
    if (found) {
      window.history.replaceState(null, "", "#" + found.id);
      found.classList.add("mine");
      found.scrollIntoView({block: "center"});
      if (result) { result.textContent = ""; }
    } else if (result) {
      result.textContent = result.dataset.missing;
    }
  });

  // The big screen pages through the rows below the top ones, on its own.
  var page = 0;
  var pagerTimer = null;

  function showPage(panel) {
    var rows = panel.querySelectorAll("tbody tr");
    var fixed = Number(panel.dataset.fixed || 3);
    var size = Number(panel.dataset.pageSize || 10);
    var rest = Math.max(0, rows.length - fixed);
    var pages = Math.max(1, Math.ceil(rest / size));
    page = page % pages;
    Array.prototype.forEach.call(rows, function (row, index) {
      var visible = index < fixed || Math.floor((index - fixed) / size) === page;
      row.hidden = !visible;
    });
    var label = panel.querySelector(".screen-page");
    if (label) { label.textContent = pages > 1 ? (page + 1) + " / " + pages : ""; }
    return pages;
  }

  function startPager() {
    var panel = document.querySelector("[data-pager]");
    if (!panel) { return; }
    showPage(panel);
    if (pagerTimer) { return; }
    pagerTimer = window.setInterval(function () {
      var current = document.querySelector("[data-pager]");
      if (!current) { return; }
      page += 1;
      showPage(current);
    }, 1000 * Number(panel.dataset.pageSeconds || 8));
  }

  document.addEventListener("DOMContentLoaded", function () { markMine(); startPager(); });
  window.addEventListener("hashchange", markMine);
}());

// The console's progress page refreshes its figures (htmx, outerHTML): a judge's list of
// missing codes the reader has unfolded stays unfolded.
(function () {
  "use strict";
  var open = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "progress-figures") { return; }
    open = Array.prototype.map.call(
      event.detail.target.querySelectorAll("details.owed[open]"),
      function (details) { return details.getAttribute("data-key"); });
  });
  document.addEventListener("htmx:afterSettle", function () {
    var figures = document.getElementById("progress-figures");
    if (!figures || !open.length) { return; }
    Array.prototype.forEach.call(figures.querySelectorAll("details.owed"), function (details) {
      if (open.indexOf(details.getAttribute("data-key")) >= 0) { details.open = true; }
    });
    open = [];
  });
}());

// A table wider than its box (the chief judge's matrix): a shadow at the right edge and a
// "scroll →" line while columns are hidden to the right ([data-scroll-hint] holds the
// scrolling box and the .scroll-hint line).
(function () {
  "use strict";
  function update(column) {
    var box = column.querySelector(".matrix-scroll"), hint = column.querySelector(".scroll-hint");
    if (!box) { return; }
    var more = box.scrollWidth - box.clientWidth - box.scrollLeft > 1;
    column.classList.toggle("more-right", more);
    if (hint) { hint.hidden = box.scrollWidth - box.clientWidth <= 1; }
  }
  function all() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-scroll-hint]"), update);
  }
  document.addEventListener("DOMContentLoaded", function () {
    all();
    Array.prototype.forEach.call(document.querySelectorAll("[data-scroll-hint] .matrix-scroll"),
      function (box) { box.addEventListener("scroll", function () { update(box.parentNode); }); });
  });
  window.addEventListener("resize", all);
}());

// Print buttons (an inline onclick is not allowed by the Content-Security-Policy).
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest && event.target.closest("[data-print]");
  if (button) { event.preventDefault(); window.print(); }
});
