// canyu pages: local times, similar posts while typing, votes without a reload, small helpers.
// Every page works without this script; it only makes them nicer.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var lang = document.documentElement.lang || "en";

  function i18n() {
    var node = document.getElementById("canyu-i18n");
    try {
      return node ? JSON.parse(node.textContent) : {};
    } catch (e) {
      return {};
    }
  }

  var T = {};
  // Votes cast on this page, so lists redrawn while typing keep showing them.
  var myVotes = {};

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // --- times: stored in UTC, shown in the viewer's own time zone -------------------------------

  var UNITS = [
    ["year", 365 * 24 * 3600],
    ["month", 30 * 24 * 3600],
    ["week", 7 * 24 * 3600],
    ["day", 24 * 3600],
    ["hour", 3600],
    ["minute", 60],
    ["second", 1],
  ];

  function relative(date) {
    if (!window.Intl || !Intl.RelativeTimeFormat) return null;
    var seconds = (date.getTime() - Date.now()) / 1000;
    var abs = Math.abs(seconds);
    if (abs < 45) return new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(0, "second");
    for (var i = 0; i < UNITS.length; i++) {
      if (abs >= UNITS[i][1] || UNITS[i][0] === "second") {
        var value = Math.round(seconds / UNITS[i][1]);
        return new Intl.RelativeTimeFormat(lang, { numeric: "auto" }).format(value, UNITS[i][0]);
      }
    }
    return null;
  }

  function localTimes(root) {
    // <time> elements, and a chart's time labels (SVG text, where <time> has no place): both in
    // the viewer's zone, so that they read alike; without the script the labels stay in UTC, and
    // say so.
    var nodes = (root || document).querySelectorAll("time[datetime], text[data-datetime]");
    var full = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    var brief = new Intl.DateTimeFormat(lang, { dateStyle: "short", timeStyle: "short" });
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var label = node.hasAttribute("data-datetime");
      var date = new Date(node.getAttribute(label ? "data-datetime" : "datetime"));
      if (isNaN(date.getTime())) continue;
      if (label) {
        node.textContent = brief.format(date);
        continue;
      }
      var exact = full.format(date);
      node.title = exact;
      var rel = node.hasAttribute("data-relative") ? relative(date) : null;
      node.textContent = rel || exact;
    }
  }

  // --- votes: the forms post to the page routes; with the script they use the JSON API ---------

  function setVoted(form, voted, count) {
    var id = form.getAttribute("data-vote");
    form.classList.toggle("is-voted", voted);
    form.action = "/posts/" + id + "/" + (voted ? "unvote" : "vote");
    var button = form.querySelector("button");
    if (button) {
      button.setAttribute("aria-pressed", voted ? "true" : "false");
      var label = button.querySelector(".vote-label");
      if (label) {
        label.textContent = button.getAttribute(voted ? "data-label-unvote" : "data-label-vote");
      }
    }
    var counter = form.querySelector("[data-vote-count]");
    if (counter && typeof count === "number") counter.textContent = String(count);
  }

  // The page's confirmation area (base.html), as a flash message would fill it after a reload.
  function announce(text) {
    var area = document.querySelector("[data-flash]");
    if (!area || !text) return;
    area.textContent = "";
    area.appendChild(el("p", "alert success flash", text));
  }

  function onVote(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-vote")) return;
    if (!window.fetch) return;
    event.preventDefault();
    var id = form.getAttribute("data-vote");
    var voted = form.classList.contains("is-voted");
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    fetch("/api/v1/feedback/" + encodeURIComponent(id) + "/vote", {
      method: voted ? "DELETE" : "PUT",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrfToken() },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (post) {
        if (button) button.disabled = false;
        myVotes[id] = !voted;
        setVoted(form, !voted, post.vote_count);
        announce(voted ? T.unvoted : T.voted);
      })
      .catch(function () {
        // Signed out, merged meanwhile, offline...: let the page route explain.
        if (button) button.disabled = false;
        HTMLFormElement.prototype.submit.call(form);
      });
  }

  // --- similar posts while a friend types ---------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function voteForm(post) {
    var form = el("form", "vote compact");
    form.method = "post";
    form.action = "/posts/" + post.id + "/vote";
    form.setAttribute("data-vote", String(post.id));
    var csrf = el("input");
    csrf.type = "hidden";
    csrf.name = "csrf_token";
    csrf.value = csrfToken();
    var next = el("input");
    next.type = "hidden";
    next.name = "next";
    next.value = "/posts/" + post.id;
    var button = el("button", "vote-button");
    button.type = "submit";
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("data-label-vote", T.vote || "Vote");
    button.setAttribute("data-label-unvote", T.unvote || "Unvote");
    var arrow = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    arrow.setAttribute("class", "vote-arrow");
    arrow.setAttribute("viewBox", "0 0 12 8");
    arrow.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", "M6 0 12 8H0z");
    arrow.appendChild(path);
    button.appendChild(arrow);
    var count = el("span", "vote-count", String(post.vote_count));
    count.setAttribute("data-vote-count", "");
    button.appendChild(count);
    button.appendChild(el("span", "vote-label", T.vote || "Vote"));
    form.appendChild(csrf);
    form.appendChild(next);
    form.appendChild(button);
    return form;
  }

  function renderSimilar(panel, found) {
    // Only posts likely to be the same problem (the server's calibrated threshold).
    var hits = found.filter(function (hit) {
      return hit.likely_duplicate;
    });
    var list = panel.querySelector("[data-similar-list]");
    var state = panel.querySelector("[data-similar-state]");
    list.textContent = "";
    if (!hits.length) {
      state.textContent = T.noSimilar || "";
      state.hidden = false;
      return;
    }
    state.hidden = true;
    hits.forEach(function (hit) {
      var post = hit.post;
      var item = el("li", "similar-item");
      var main = el("div", "similar-main");
      var link = el("a", null, post.title);
      link.href = "/posts/" + post.id;
      link.target = "_blank";
      link.rel = "noopener";
      link.title = T.openNew || "";
      main.appendChild(link);
      var meta = el("div", "similar-meta");
      meta.appendChild(el("span", "score", Math.round(hit.score * 100) + "% " + (T.match || "")));
      var statuses = T.statuses || {};
      meta.appendChild(el("span", "badge status-" + post.status, statuses[post.status] || post.status));
      meta.appendChild(el("span", null, "#" + post.id));
      main.appendChild(meta);
      var vote = post.status === "duplicate" ? el("span") : voteForm(post);
      if (myVotes[String(post.id)]) setVoted(vote, true, post.vote_count);
      item.appendChild(vote);
      item.appendChild(main);
      list.appendChild(item);
    });
  }

  function similarAsYouType(panel) {
    var form = document.getElementById(panel.getAttribute("data-similar-for"));
    if (!form || !window.fetch) return;
    var title = form.querySelector('[name="title"]');
    var body = form.querySelector('[name="body"]');
    var state = panel.querySelector("[data-similar-state]");
    var timer = null;
    var controller = null;
    var last = "";

    function query() {
      var text = (title.value.trim() + "\n" + body.value.trim()).trim();
      return text.slice(0, 2000);
    }

    function search() {
      var q = query();
      if (q === last) return;
      last = q;
      if (controller) controller.abort();
      if (q.length < 3) {
        panel.querySelector("[data-similar-list]").textContent = "";
        return;
      }
      controller = window.AbortController ? new AbortController() : null;
      panel.classList.add("is-loading");
      fetch("/api/v1/feedback/similar?k=5&q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: controller ? controller.signal : undefined,
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (hits) {
          panel.classList.remove("is-loading");
          renderSimilar(panel, hits);
        })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          panel.classList.remove("is-loading");
          state.textContent = T.failed || "";
          state.hidden = false;
          last = "";
        });
    }

    function schedule() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(search, 250);
    }

    title.addEventListener("input", schedule);
    body.addEventListener("input", schedule);
    if (query().length >= 3) search();
  }

  // --- small helpers ----------------------------------------------------------------------------

  function autosubmit(form) {
    form.addEventListener("change", function () {
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }

  function selectAll(box) {
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      var boxes = document.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = box.checked;
    });
  }

  function copyButton(button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) return;
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = T.copied || "Copied";
      });
    });
  }

  // A payload's SHA-256, computed from the chosen file in the browser (secure pages only), so
  // the team does not copy it by hand; the server still compares it with the bytes it receives.
  function hashInto(input) {
    var target = document.getElementById(input.getAttribute("data-hash-into"));
    if (!target || !window.crypto || !crypto.subtle) return;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      file.arrayBuffer().then(function (bytes) {
        return crypto.subtle.digest("SHA-256", bytes);
      }).then(function (digest) {
        target.value = Array.prototype.map.call(new Uint8Array(digest), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
      });
    });
  }

  function each(selector, fn) {
    var nodes = document.querySelectorAll(selector);
    for (var i = 0; i < nodes.length; i++) fn(nodes[i]);
  }

  function start() {
    T = i18n();
    localTimes(document);
    document.addEventListener("submit", onVote);
    each("[data-similar-for]", similarAsYouType);
    each("form[data-autosubmit]", autosubmit);
    each("[data-select-all]", selectAll);
    each("[data-copy]", copyButton);
    each("input[data-hash-into]", hashInto);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
