// The judges' service worker: a sheet opened once online opens again without the network.
// Served as /judge/sw.js with the scope /judge (scoring/web/judging.py): it sees the judge's
// pages and what they load, never a public, console or chief page.
//
// - Pages (/judge and below): network first, so an online judge always sees fresh marks;
//   each page received is kept in the cache of the judge the server names in its
//   X-Scoring-Judge header ("scoring-judge-<id>"); a page of another judge drops the first
//   one's cache. Without the network (or no answer within PAGE_WAIT ms) the kept copy is
//   shown, if there is one.
// - The stylesheet and scripts (/static/): network first as well, kept in "scoring-assets".
// - Saves (POST) are never touched here: static/js/app.js queues them in IndexedDB.
// - Signing in or out deletes every "scoring-" cache (app.js); the queue of unsent marks
//   is kept, stamped with the judge who typed them.
"use strict";

var VERSION = "1";
var ASSETS = "scoring-assets-" + VERSION;
var JUDGE = "scoring-judge-";
var PAGE_WAIT = 6000;
var HOME = new URL(self.registration.scope).pathname.replace(/\/$/, "");  // "/judge"
var SELF = new URL(self.location.href).pathname;
var STATIC = new URL("../static/", self.location.href).pathname;            // "/static/"
var PRECACHE = ["css/app.css", "js/app.js", "vendor/htmx.min.js"].map(function (name) {
  return STATIC + name;
});

function isJudgePage(path) {
  return (path === HOME || path.indexOf(HOME + "/") === 0) && path !== SELF;
}

function judgeCache() {
  return caches.keys().then(function (names) {
    var name = names.filter(function (n) { return n.indexOf(JUDGE) === 0; })[0];
    return name ? caches.open(name) : null;
  });
}

// Keeps a judge's page under the judge the server named; drops any other judge's cache.
function keep(url, response) {
  var judge = response.headers.get("X-Scoring-Judge");
  if (!response.ok || response.redirected || response.type !== "basic" || !judge ||
      !/^[0-9]+$/.test(judge)) {
    return Promise.resolve();
  }
  var name = JUDGE + judge;
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf(JUDGE) === 0 && n !== name;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () {
    return caches.open(name);
  }).then(function (cache) {
    return cache.put(url, response);
  });
}

function kept(url) {
  return judgeCache().then(function (cache) { return cache ? cache.match(url) : undefined; });
}

function notKept() {
  var text = "<!doctype html><meta charset=utf-8><title>离线 / Offline</title>" +
    "<p>离线：此页面未存于本平板，联网后再打开。</p>" +
    "<p lang=en>Offline: this page is not kept on this tablet; open it again once the " +
    "network is back.</p>";
  return new Response(text, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8",
                                                    "Cache-Control": "no-store"}});
}

function page(event) {
  var request = event.request;
  var storing = Promise.resolve();
  var network = fetch(request).then(function (response) {
    storing = keep(request.url, response.clone());
    return response;
  });
  event.waitUntil(network.then(function () { return storing; }, function () {}));
  var slow = new Promise(function (resolve) { setTimeout(resolve, PAGE_WAIT); })
    .then(function () { return kept(request.url); })
    .then(function (copy) { return copy || network; });
  return Promise.race([network, slow]).catch(function () {
    return kept(request.url).then(function (copy) { return copy || notKept(); });
  });
}

function asset(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic") {
      var copy = response.clone();
      event.waitUntil(caches.open(ASSETS).then(function (cache) {
        return cache.put(request.url.split("?")[0], copy);
      }));
    }
    return response;
  }, function () {
    return caches.open(ASSETS).then(function (cache) {
      return cache.match(request.url.split("?")[0]);
    }).then(function (copy) { return copy || Response.error(); });
  });
}

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(ASSETS).then(function (cache) {
    return cache.addAll(PRECACHE);
  }).catch(function () { /* kept on first use instead */ }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("scoring-assets-") === 0 && n !== ASSETS;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && isJudgePage(url.pathname)) {
    event.respondWith(page(event));
  } else if (url.pathname.indexOf(STATIC) === 0 && request.mode !== "navigate") {
    event.respondWith(asset(event));
  }
});

// A page asks to keep pages it links to (the home page: every sheet of the judge), and
// itself when it was loaded before this worker controlled it.
self.addEventListener("message", function (event) {
  var urls = event.data && Array.isArray(event.data.keep) ? event.data.keep : [];
  event.waitUntil(Promise.all(urls.map(function (path) {
    var url = new URL(path, self.location.href);
    if (url.origin !== self.location.origin || !isJudgePage(url.pathname)) {
      return Promise.resolve();
    }
    return kept(url.href).then(function (copy) {
      if (copy && !event.data.fresh) { return undefined; }
      return fetch(url.href, {credentials: "same-origin"}).then(function (response) {
        return keep(url.href, response);
      });
    }).catch(function () { /* offline: kept next time */ });
  })).then(function () {
    if (event.source) { event.source.postMessage({kept: urls.length}); }
  }));
});
