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
}());
