// Judges' pages: never lose a typed mark. No inline script anywhere (the CSP forbids it).
//
// Every edit of a mark is first written to a queue in the browser's IndexedDB, stamped with
// the judge who typed it, then sent; it leaves the queue only once the server has answered
// it (saved, or a conflict or refusal shown on its row). The queue outlives a reload, a
// closed browser and a flat battery, and is sent on opening a judge's page, when the
// network returns, and every few seconds while marks wait. A mark goes only to the server
// session of the judge who typed it. Each edit has its own token (the server keeps one
// revision per token: a retry never makes a second) and the version of the mark the page
// showed (a mark changed meanwhile comes back as a conflict with both values).
(function () {
  "use strict";
  // "marks": the queue; "rows": the last saved answer of each row, shown on a page kept
  // from before it (a sheet opened offline shows what was saved since it was kept).
  var DB_NAME = "scoring-offline", STORE = "marks", ROWS = "rows", OLD_PENDING = "scoring:pending";
  // IndexedDB writes are asynchronous: a mark is first written, synchronously, to this
  // journal in localStorage, so that a reload or a closed tab a moment after typing loses
  // nothing; it moves into the queue at once, and on the next page load if it had no time.
  var JOURNAL = "scoring:journal";

  function randomToken() {
    // crypto.randomUUID needs HTTPS; a hall's Wi-Fi often serves plain HTTP.
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function noop() { /* nothing to do */ }

  // --- the queue: IndexedDB, or this page's memory where the browser has none -----------
  var memory = [], memoryId = 0, opening = null;

  function openDb() {
    if (!opening) {
      opening = new Promise(function (resolve) {
        var request;
        try { request = window.indexedDB.open(DB_NAME, 2); } catch (e) { resolve(null); return; }
        request.onupgradeneeded = function () {
          var db = request.result;
          if (!db.objectStoreNames.contains(STORE)) {
            db.createObjectStore(STORE, {keyPath: "id", autoIncrement: true});
          }
          if (!db.objectStoreNames.contains(ROWS)) { db.createObjectStore(ROWS, {keyPath: "id"}); }
        };
        request.onsuccess = function () { durable = true; resolve(request.result); };
        request.onerror = request.onblocked = function () { resolve(null); };
      });
    }
    return opening;
  }

  // work(store) runs inside one transaction; resolves with what work's last request gave.
  function transaction(mode, work, name) {
    return openDb().then(function (db) {
      if (!db) { return work(null); }
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name || STORE, mode), result;
        var request = work(tx.objectStore(name || STORE));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var queue = {
    all: function () {
      return transaction("readonly", function (store) {
        return store ? store.getAll() : null;
      }).then(function (rows) {
        return (rows || memory.slice()).sort(function (a, b) { return a.id - b.id; });
      });
    },
    // The row's edits never sent are replaced by this one (an edit that may have reached
    // the server stays, and is sent first).
    add: function (entry) {
      return transaction("readwrite", function (store) {
        if (!store) {
          memory = memory.filter(function (e) { return !supersedes(entry, e); });
          entry.id = ++memoryId;
          memory.push(entry);
          return null;
        }
        store.openCursor().onsuccess = function (event) {
          var cursor = event.target.result;
          if (!cursor) { store.add(entry); return; }
          if (supersedes(entry, cursor.value)) { cursor.delete(); }
          cursor.continue();
        };
        return null;
      }).then(changed);
    },
    // The later edits of `entry`'s row still waiting: given `version` (what `entry`
    // produced), if any; resolves with how many there are.
    follow: function (entry, version) {
      var count = 0;
      return transaction(version === null ? "readonly" : "readwrite", function (store) {
        var later = function (e) {
          return e.id !== entry.id && e.judge === entry.judge && e.url === entry.url &&
            !e.answer;
        };
        if (!store) {
          memory.forEach(function (e) {
            if (later(e)) { count += 1; if (version !== null) { e.fields.version = version; } }
          });
          return null;
        }
        store.openCursor().onsuccess = function (event) {
          var cursor = event.target.result;
          if (!cursor) { return; }
          var value = cursor.value;
          if (later(value)) {
            count += 1;
            if (version !== null) {
              value.fields.version = version;
              cursor.update(value);
            }
          }
          cursor.continue();
        };
        return null;
      }).then(function () { return count; });
    },
    put: function (entry) {
      return transaction("readwrite", function (store) {
        if (!store) {
          memory = memory.map(function (e) { return e.id === entry.id ? entry : e; });
          return null;
        }
        return store.put(entry);
      });
    },
    remove: function (id) {
      return transaction("readwrite", function (store) {
        if (!store) {
          memory = memory.filter(function (e) { return e.id !== id; });
          return null;
        }
        return store.delete(id);
      }).then(changed);
    }
  };

  // The rows saved lately (IndexedDB only: a page's memory would not outlive it).
  var rows = {
    all: function () {
      return transaction("readonly", function (store) {
        return store ? store.getAll() : null;
      }, ROWS).then(function (found) { return found || []; }, function () { return []; });
    },
    put: function (row) {
      return transaction("readwrite", function (store) {
        return store ? store.put(row) : null;
      }, ROWS).catch(noop);
    },
    remove: function (id) {
      return transaction("readwrite", function (store) {
        return store ? store.delete(id) : null;
      }, ROWS).catch(noop);
    },
    clear: function () {
      return transaction("readwrite", function (store) {
        return store ? store.clear() : null;
      }, ROWS).catch(noop);
    }
  };

  function journal() {
    try { return JSON.parse(window.localStorage.getItem(JOURNAL) || "[]"); }
    catch (e) { return []; }
  }

  function setJournal(entries) {
    try {
      if (entries.length) { window.localStorage.setItem(JOURNAL, JSON.stringify(entries)); }
      else { window.localStorage.removeItem(JOURNAL); }
    } catch (e) { /* storage refused or full: the queue alone */ }
  }

  var durable = false;  // IndexedDB opened: the journal may be emptied into it

  function unjournal(token) {
    if (!durable) { return; }
    setJournal(journal().filter(function (e) { return e.fields.token !== token; }));
  }

  // The journal's marks into the queue, oldest first (each replacing its row's unsent edit).
  function drainJournal() {
    var pending = journal();
    return pending.reduce(function (done, entry) {
      return done.then(function () { return queue.all(); }).then(function (entries) {
        var known = entries.some(function (e) { return e.fields.token === entry.fields.token; });
        return known ? null : queue.add(entry);
      }).then(function () { unjournal(entry.fields.token); });
    }, Promise.resolve());
  }

  function supersedes(entry, older) {
    return older.judge === entry.judge && older.url === entry.url && !older.tried &&
      !older.answer;
  }

  var channel = window.BroadcastChannel ? new window.BroadcastChannel("scoring-marks") : null;
  function changed() {
    if (channel) { channel.postMessage("changed"); }
    refresh();
  }
  if (channel) { channel.onmessage = function () { refresh(); }; }

  // --- the page -----------------------------------------------------------------------------
  function statusBox() { return document.getElementById("offline-status"); }
  function me() { var box = statusBox(); return box ? box.dataset.judge : null; }
  function text(name) { var box = statusBox(); return box ? box.dataset[name] || "" : ""; }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function markForm(target) {
    return target && target.closest ? target.closest("form.mark-form") : null;
  }

  function formFor(url) {
    var found = null;
    Array.prototype.forEach.call(document.querySelectorAll("form.mark-form"), function (form) {
      if (form.getAttribute("hx-post") === url) { found = form; }
    });
    return found;
  }

  function showStatus(form, message, state) {
    var row = form.closest(".mark-row");
    if (!row) { return; }
    row.classList.remove("state-saved", "state-invalid", "state-conflict", "state-refused",
                         "state-unsaved");
    row.classList.add(state);
    var status = row.querySelector(".status");
    if (status) { status.textContent = message; }
  }

  // Every named field of a mark's form (value, token, version, view, and whatever a kind
  // of row adds): a level button sets a hidden `value` as a typed number does.
  function fieldsOf(form) {
    var fields = {};
    new window.FormData(form).forEach(function (value, name) {
      if (typeof value === "string") { fields[name] = value; }
    });
    return fields;
  }

  var online = navigator.onLine, reached = true;

  function refresh() {
    var box = statusBox();
    if (!box) { return; }
    queue.all().then(function (entries) {
      var judge = me(), prefix = "";
      var sign = document.querySelector("form.sign-off[data-marks]");
      if (sign) { prefix = sign.dataset.marks; }
      var waiting = entries.filter(function (e) { return e.judge === judge && !e.answer; });
      var answers = entries.filter(function (e) { return e.judge === judge && e.answer; });
      var others = entries.filter(function (e) { return e.judge !== judge; });
      var up = online && reached;
      box.classList.toggle("is-offline", !up);
      box.querySelector(".connection").textContent = up ? text("msgOnline") : text("msgOffline");
      box.querySelector(".queue-count").textContent = waiting.length ?
        text("msgWaiting").replace("{n}", waiting.length) : text("msgSent");
      box.classList.toggle("has-waiting", waiting.length > 0);
      [[".queue-answers", answers.length, "msgAnswers"],
       [".queue-others", others.length, "msgOthers"]].forEach(function (part) {
        var span = box.querySelector(part[0]);
        span.hidden = !part[1];
        span.textContent = part[1] ? text(part[2]).replace("{n}", part[1]) : "";
      });
      if (sign) {
        var here = waiting.filter(function (e) { return e.url.indexOf(prefix) === 0; }).length;
        var button = sign.querySelector("button[type=submit]");
        if (button) { button.disabled = here > 0; }
        var reason = sign.querySelector(".sign-waiting");
        if (reason) { reason.hidden = here === 0; }
      }
      // A mark sent from the queue and refused (off step, the sheet signed meanwhile) or in
      // conflict shows on its row; the box says how many, so none goes unseen.
      var problems = document.querySelectorAll(
        ".mark-row.state-invalid, .mark-row.state-refused, .mark-row.state-conflict");
      var jump = box.querySelector(".page-problems");
      if (jump) {
        jump.hidden = !problems.length;
        jump.textContent = problems.length ? text("msgProblems").replace("{n}", problems.length) : "";
        jump.setAttribute("href", problems.length ? "#" + problems[0].id : "#");
      }
      box.dataset.waiting = String(waiting.length);
    }).catch(noop);
  }

  // htmx would post a mark's form on change or submit: the queue sends it instead.
  document.addEventListener("htmx:confirm", function (event) {
    var form = markForm(event.detail.elt);
    if (!form || event.detail.elt !== form || !me()) { return; }
    event.preventDefault();
    enqueue(form, event.detail.issueRequest);
  });

  // `direct`: htmx's own request, should the browser refuse to store the queue.
  function enqueue(form, direct) {
    var fields = fieldsOf(form), url = form.getAttribute("hx-post");
    if (!fields.token) {  // a change without an edit of its own: a token of its own
      fields.token = randomToken();
      form.elements.token.value = fields.token;
    }
    var entry = {judge: me(), url: url, fields: fields, tried: false, answer: null,
                 typed: Date.now()};
    var noted = journal().filter(function (e) { return e.fields.token !== fields.token; });
    noted.push(entry);
    setJournal(noted);  // synchronously, before anything else
    return queue.all().then(function (entries) {
      var same = entries.filter(function (e) { return e.fields.token === fields.token; })[0];
      if (same && same.fields.value === fields.value && same.url === url) { return null; }
      if (same) {  // the token of another edit: this one gets its own
        fields.token = randomToken();
        form.elements.token.value = fields.token;
        setJournal(journal().filter(function (e) {
          return e.fields.token !== same.fields.token;
        }).concat([entry]));
      }
      return queue.add(entry);
    }).then(function () {
      unjournal(entry.fields.token);
      showStatus(form, document.body.dataset.msgUnsaved, "state-unsaved");
      flush(true);
    }, function () {
      if (direct) { direct(true); }
    });
  }

  // --- sending --------------------------------------------------------------------------------
  var flushing = false, flushAgain = false, wait = 0, timer = null;

  function later() {
    window.clearTimeout(timer);
    wait = Math.min(wait ? wait * 2 : 1000, 15000);
    timer = window.setTimeout(function () { flush(false); }, wait);
  }

  function flush(now) {
    if (!me()) { return; }
    if (now) { wait = 0; }
    if (flushing) { flushAgain = true; return; }
    flushing = true;
    var run = function () { return sendAll().catch(noop); };
    var done = navigator.locks && navigator.locks.request ?
      navigator.locks.request("scoring-marks", run) : run();
    done.catch(noop).then(function () {
      flushing = false;
      if (flushAgain) { flushAgain = false; flush(false); }
    });
  }

  // One save after the other, each read afresh from the queue (an edit typed meanwhile is
  // sent in the same round, with the version its predecessor produced).
  function sendAll() {
    return queue.all().then(function (entries) {
      var judge = me();
      var next = entries.filter(function (e) { return e.judge === judge && !e.answer; })[0];
      if (!next) {
        wait = 0;
        refresh();
        return null;
      }
      return sendOne(next).then(function (goOn) { return goOn ? sendAll() : null; });
    });
  }

  var ANSWER_WAIT = 15000;  // ms: a save unanswered by then is sent again later (its token)

  function post(entry) {
    var body = new window.URLSearchParams();
    Object.keys(entry.fields).forEach(function (name) { body.append(name, entry.fields[name]); });
    body.append("judge", entry.judge);
    var control = window.AbortController ? new window.AbortController() : null;
    var timer = control ? window.setTimeout(function () { control.abort(); }, ANSWER_WAIT) : null;
    return window.fetch(entry.url, {
      method: "POST", body: body, credentials: "same-origin", cache: "no-store",
      headers: {"HX-Request": "true", "X-CSRFToken": csrf()},
      signal: control ? control.signal : undefined
    }).then(function (response) {
      return response.text().then(function (answer) {
        return {status: response.status, text: answer};
      });
    }).catch(function () { return {status: 0, text: ""}; }).then(function (answer) {
      window.clearTimeout(timer);
      return answer;
    });
  }

  // A page kept from before a new sign-in carries an old security token: ask for the page
  // afresh and take its token.
  function freshToken() {
    return window.fetch(window.location.href, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (page) {
        var match = /name="csrf-token" content="([^"]+)"/.exec(page);
        var meta = document.querySelector('meta[name="csrf-token"]');
        if (match && meta) { meta.content = match[1]; return true; }
        return false;
      }, function () { return false; });
  }

  // Sends one save; true when the next one may follow.
  function sendOne(entry) {
    entry.tried = true;
    return queue.put(entry).then(function () { return post(entry); }).then(function (answer) {
      if (answer.status === 400 && !entry.retoken) {
        entry.retoken = true;
        return freshToken().then(function () { return queue.put(entry); })
          .then(function () { return true; });
      }
      if (answer.status === 0 || answer.status >= 500 || answer.status === 429) {
        reached = answer.status !== 0 ? reached : false;
        refresh();
        later();
        return false;
      }
      reached = true;
      if (answer.status === 401) {
        var banner = document.getElementById("session-banner");
        if (banner) { banner.hidden = false; }
        var expired = formFor(entry.url);
        if (expired) { showStatus(expired, document.body.dataset.msgExpired, "state-unsaved"); }
        refresh();
        return false;
      }
      if (answer.status === 409) { refresh(); return false; }  // another judge's: never sent
      return answered(entry, answer).then(function () { return true; });
    });
  }

  // The server has answered this edit. Saved: the row's later edits, typed while it was on
  // its way, take the version it produced. Shown on its row, unless a later edit of the row
  // waits (that one is shown); the row not being on this page, a conflict or refusal is
  // kept, to be shown when its sheet opens.
  function answered(entry, answer) {
    var row = null, saved = false, version = null;
    if (answer.status === 200) {
      row = new window.DOMParser().parseFromString(answer.text, "text/html")
        .querySelector(".mark-row");
      var field = row && row.querySelector('input[name="version"]');
      version = field ? field.value : null;
      saved = !!row && !row.classList.contains("state-conflict") &&
        !row.classList.contains("state-invalid") && !row.classList.contains("state-refused");
    }
    return queue.follow(entry, saved ? version : null).then(function (newer) {
      var form = formFor(entry.url);
      if (saved && version !== null) {
        rows.put({id: entry.judge + " " + entry.url, judge: entry.judge, url: entry.url,
                  view: entry.fields.view || "", version: Number(version) || 0,
                  html: answer.text});
      }
      if (row && entry.fields.view !== "entry") {
        window.htmx.trigger(document.body, "progress-changed");
      }
      if (row && !newer && form) {
        window.htmx.swap(form.closest(".mark-row"), answer.text, {swapStyle: "outerHTML"});
      } else if (row && !newer && !saved) {
        entry.answer = answer.text;
        return queue.put(entry).then(changed);
      } else if (!row && form && !newer) {
        showStatus(form, document.body.dataset.msgRefused + ": " +
                   (answer.text || answer.status).toString().slice(0, 200), "state-refused");
      }
      return queue.remove(entry.id).then(refresh);
    });
  }

  // Opening a page: the judge's waiting marks shown on their rows, answers kept for a row of
  // this page shown, then everything sent.
  function restore() {
    return rows.all().then(function (saved) {
      var judge = me(), work = [], added = 0;
      saved.forEach(function (row) {
        var form = row.judge === judge ? formFor(row.url) : null;
        if (!form) { return; }
        var field = form.elements.version;
        var shown = field && field.value ? Number(field.value) : 0;
        if (row.version > shown && (form.elements.view || {}).value === row.view) {
          window.htmx.swap(form.closest(".mark-row"), row.html, {swapStyle: "outerHTML"});
          if (!shown) { added += 1; }  // a mark the kept page did not have yet
        } else if (row.version <= shown) {
          work.push(rows.remove(row.id));  // the page is newer: no longer needed
        }
      });
      // The count of a kept page, as of the marks saved since (asked afresh once online).
      var count = document.querySelector(".progress-count");
      var figures = count && /^(\d+) \/ (\d+)$/.exec(count.textContent.trim());
      if (added && figures) {
        count.textContent = Math.min(Number(figures[1]) + added, Number(figures[2])) + " / " +
          figures[2];
      }
      return Promise.all(work);
    }).then(function () { return queue.all(); }).then(function (entries) {
      var judge = me(), shown = [];
      entries.forEach(function (entry) {
        var form = entry.judge === judge ? formFor(entry.url) : null;
        if (!form) { return; }
        if (entry.answer) {
          window.htmx.swap(form.closest(".mark-row"), entry.answer, {swapStyle: "outerHTML"});
          shown.push(queue.remove(entry.id));
          return;
        }
        Object.keys(entry.fields).forEach(function (name) {
          var field = form.elements[name];
          if (field && field.type !== "button" && field.type !== "submit") {
            field.value = entry.fields[name];
          }
        });
        showStatus(form, document.body.dataset.msgUnsaved, "state-unsaved");
        form.dispatchEvent(new window.CustomEvent("scoring:restored", {bubbles: true}));
      });
      return Promise.all(shown);
    });
  }

  // --- the service worker: keeps the judge's pages for opening offline ---------------------
  function startWorker() {
    var box = statusBox();
    if (!box || !box.dataset.worker || !("serviceWorker" in navigator)) { return; }
    var controlled = !!navigator.serviceWorker.controller;
    navigator.serviceWorker.register(box.dataset.worker, {scope: box.dataset.scope})
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (registration) {
        var urls = Array.prototype.map.call(document.querySelectorAll("a.sheet-link"),
                                            function (link) { return link.getAttribute("href"); });
        // This page too: fetched again when it came before the worker, else kept only if
        // its copy is missing (the browser may have dropped it).
        urls.push(window.location.pathname + window.location.search);
        if (registration.active) {
          registration.active.postMessage({keep: urls, fresh: !controlled});
        }
      }).catch(noop);
  }

  // Signing out (its form: data-forget-offline="on-submit"), and opening a sign-in page
  // ("on-load": whoever signs in next starts afresh): the kept pages and anything else
  // the browser holds for this site go, except the queue of marks not yet sent.
  function forgetKept() {
    try {
      window.localStorage.removeItem(OLD_PENDING);
      window.sessionStorage.clear();
    } catch (e) { /* storage refused */ }
    var saved = rows.clear();
    var work = window.caches ? window.caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("scoring-") === 0;
      }).map(function (name) { return window.caches.delete(name); }));
    }) : Promise.resolve();
    var enough = new Promise(function (resolve) { window.setTimeout(resolve, 3000); });
    return Promise.race([Promise.all([work.catch(noop), saved]), enough]);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.getAttribute || form.getAttribute("data-forget-offline") !== "on-submit" ||
        event.defaultPrevented) { return; }
    if (form.dataset.forgotten) { return; }
    event.preventDefault();
    forgetKept().then(function () {
      form.dataset.forgotten = "1";
      form.submit();
    });
  });

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

  // Another request of a row (keep the saved value) or of the count that fails.
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status !== 401) { return; }
    var banner = document.getElementById("session-banner");
    if (banner) { banner.hidden = false; }
  });

  // A sheet is signed once all its marks are saved: the button waits for the queue.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("sign-off")) { return; }
    var button = form.querySelector("button[type=submit]");
    if (button && button.disabled) { event.preventDefault(); }
  });

  function connection() {
    online = navigator.onLine;
    if (online) { reached = true; flush(true); }
    refresh();
  }
  window.addEventListener("online", connection);
  window.addEventListener("offline", connection);

  // Without IndexedDB the queue lives in this page only: leaving it would lose marks.
  window.addEventListener("beforeunload", function (event) {
    if (memory.length) { event.preventDefault(); event.returnValue = ""; }
  });

  document.addEventListener("DOMContentLoaded", function () {
    try { window.localStorage.removeItem(OLD_PENDING); } catch (e) { /* refused */ }
    // A sign-in page: the clearing ends before the form can be sent (else it could land
    // after the next judge's pages were kept).
    var signIn = document.querySelector('form[data-forget-offline="on-load"]');
    if (signIn) {
      var buttons = signIn.querySelectorAll("button[type=submit]");
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
      forgetKept().then(function () {
        Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      });
    }
    if (!statusBox()) { return; }
    refresh();
    startWorker();
    drainJournal().catch(noop).then(restore).catch(noop).then(function () {
      refresh();
      flush(true);
    });
    window.setInterval(function () { if (!flushing && statusBox().dataset.waiting !== "0") { flush(false); } }, 20000);
  });
}());

// The rest of the pages.
(function () {
  "use strict";
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
