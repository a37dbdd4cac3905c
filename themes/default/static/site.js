// The site's few behaviours, no framework: results while typing in the
// search box (with the keyboard), "/" to search, the light/dark toggle,
// "copy answer", code highlighting, and live reload while authoring.
// Every page works without this file.
"use strict";

(function () {
  const root = document.documentElement;

  // --- the reader's language ------------------------------------------------
  // Choosing a card's other language is remembered for a year: search and
  // section lists on this site then show each card in it when it exists.
  document.querySelectorAll("[data-remember-lang]").forEach((link) => {
    link.addEventListener("click", () => {
      document.cookie =
        "quire_lang=" + encodeURIComponent(link.dataset.rememberLang) +
        "; path=/; max-age=31536000; samesite=lax";
    });
  });

  // --- light / dark ---------------------------------------------------------
  const toggle = document.getElementById("theme-toggle");
  function isDark() {
    const chosen = root.dataset.theme;
    return chosen ? chosen === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  }
  function showTheme() {
    if (toggle) toggle.setAttribute("aria-pressed", String(isDark()));
  }
  if (toggle) {
    toggle.addEventListener("click", () => {
      const next = isDark() ? "light" : "dark";
      root.dataset.theme = next;
      try {
        localStorage.setItem("quire-theme", next);
      } catch (_) {
        /* the choice lasts for this page only */
      }
      showTheme();
    });
    showTheme();
  }

  // --- the menu, folded on a phone -----------------------------------------
  const menuButton = document.querySelector(".menu-toggle");
  const nav = document.getElementById("site-nav");
  if (menuButton && nav) {
    menuButton.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      menuButton.setAttribute("aria-expanded", String(open));
    });
  }

  // --- search filters: folded on a phone, where the results come first ------
  const filters = document.querySelector("details.facets");
  if (filters && matchMedia("(max-width: 52rem)").matches) filters.open = false;

  // --- search while typing ------------------------------------------------
  const box = document.getElementById("q");
  const list = document.getElementById("suggestions");
  let active = -1;
  let timer = 0;
  let inflight = null;

  function options() {
    return list ? Array.from(list.querySelectorAll("[role=option]")) : [];
  }
  function close() {
    if (!list) return;
    list.hidden = true;
    list.textContent = "";
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }
  function highlight(i) {
    const all = options();
    active = i;
    all.forEach((o, j) => o.setAttribute("aria-selected", String(j === i)));
    if (i >= 0 && all[i]) box.setAttribute("aria-activedescendant", all[i].id);
    else box.removeAttribute("aria-activedescendant");
  }
  function show(hits) {
    list.textContent = "";
    hits.forEach((hit, i) => {
      const li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      const a = document.createElement("a");
      a.href = hit.url;
      a.tabIndex = -1;
      a.textContent = hit.title;
      const badge = document.createElement("span");
      badge.className = "badge trust-" + hit.trust;
      badge.textContent = hit.trust;
      li.append(a, " ", badge);
      li.addEventListener("mousedown", (e) => {
        e.preventDefault();
        location.href = hit.url;
      });
      list.appendChild(li);
    });
    list.hidden = hits.length === 0;
    box.setAttribute("aria-expanded", String(hits.length > 0));
    active = -1;
  }
  function suggest() {
    const q = box.value;
    if (!q.trim()) return close();
    if (inflight) inflight.abort();
    inflight = new AbortController();
    fetch("/api/v1/search?limit=8&typing=1&snippets=false&q=" + encodeURIComponent(q), { signal: inflight.signal, headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { hits: [] }))
      .then((r) => {
        if (box.value === q) show(r.hits || []);
      })
      .catch(() => {
        /* typing on; the form still submits */
      });
  }
  if (box && list) {
    box.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    box.addEventListener("keydown", (e) => {
      const all = options();
      if (e.key === "ArrowDown" && all.length) {
        e.preventDefault();
        highlight(Math.min(active + 1, all.length - 1));
      } else if (e.key === "ArrowUp" && all.length) {
        e.preventDefault();
        highlight(Math.max(active - 1, -1));
      } else if (e.key === "Enter" && active >= 0 && all[active]) {
        e.preventDefault();
        location.href = all[active].querySelector("a").href;
      } else if (e.key === "Escape") {
        close();
      } else if (e.key === "ArrowDown" && !all.length) {
        // On the search page, the arrow goes on from the box to the results.
        const first = document.querySelector(".results .result-title a");
        if (first) {
          e.preventDefault();
          first.focus();
        }
      }
    });
    box.addEventListener("blur", () => setTimeout(close, 150));
  }
  document.addEventListener("keydown", (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if (e.key === "/" && !typing && box) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });

  // --- copy answer ----------------------------------------------------------
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      const text = source ? source.content.textContent.trim() : "";
      const status = button.parentElement.querySelector(".copy-status");
      try {
        await navigator.clipboard.writeText(text);
        if (status) status.textContent = "Copied";
      } catch (_) {
        if (status) status.textContent = "Copy failed: select the text and copy it";
      }
    });
  });

  // --- the results, by keyboard: arrows move between result titles ----------
  const resultLinks = Array.from(document.querySelectorAll(".results .result-title a"));
  resultLinks.forEach((link, i) => {
    link.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" && resultLinks[i + 1]) {
        e.preventDefault();
        resultLinks[i + 1].focus();
      } else if (e.key === "ArrowUp") {
        e.preventDefault();
        (resultLinks[i - 1] || box).focus();
      }
    });
  });

  // --- wide tables scroll on their own: reachable by keyboard too ------------
  document.querySelectorAll(".card-body table").forEach((table) => {
    table.tabIndex = 0;
  });

  // --- headings: a link to each section, copied on click ----------------------
  document.querySelectorAll(".card-body :is(h2, h3, h4)[id]").forEach((heading) => {
    const link = document.createElement("a");
    link.className = "heading-anchor";
    link.href = "#" + heading.id;
    link.textContent = "#";
    link.setAttribute("aria-label", "Link to the section " + heading.textContent);
    link.addEventListener("click", () => {
      const url = location.href.split("#")[0] + "#" + heading.id;
      if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
    });
    heading.appendChild(link);
  });

  // --- the searched words, marked on the card a search result opened ---------
  const searched = new URLSearchParams(location.search).get("q");
  const body = document.querySelector(".card-body");
  if (searched && body) markWords(body, searched);

  // --- code highlighting (loaded only where there is code) -------------------
  const blocks = document.querySelectorAll("pre code");
  if (blocks.length) {
    const script = document.createElement("script");
    script.src = "/static/vendor/highlight.js";
    script.onload = () => {
      blocks.forEach((block) => {
        const lang = Array.from(block.classList).find((c) => c.startsWith("language-"));
        if (lang && window.hljs.getLanguage(lang.slice(9))) window.hljs.highlightElement(block);
      });
    };
    document.head.appendChild(script);
  }

  // --- live reload ----------------------------------------------------------
  if (root.dataset.liveReload === "on" && window.EventSource) {
    const events = new EventSource("/events");
    events.addEventListener("open", () => (root.dataset.liveReload = "connected"));
    events.addEventListener("reload", () => location.reload());
  }

  /** Wraps the words of `query` found in `root`'s text in <mark>. A word
   * matches from its start, so "refund" marks "refunds" and "возврат"
   * "возврата"; words shorter than three letters are left alone (except in
   * scripts without spaces, where every typed run counts). */
  function markWords(root, query) {
    const words = query
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((w) => w.length >= 3 || /\p{Script=Han}/u.test(w))
      .slice(0, 12)
      .map((w) => w.slice(0, Math.max(3, w.length - 2)).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    if (!words.length) return;
    const pattern = new RegExp("(" + words.join("|") + ")[\\p{L}\\p{N}]*", "giu");
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest("pre, code, mark, script") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    let first = null;
    for (const node of nodes.slice(0, 2000)) {
      const text = node.nodeValue;
      pattern.lastIndex = 0;
      if (!pattern.test(text)) continue;
      pattern.lastIndex = 0;
      const fragment = document.createDocumentFragment();
      let at = 0;
      for (const m of text.matchAll(pattern)) {
        fragment.append(text.slice(at, m.index));
        const mark = document.createElement("mark");
        mark.textContent = m[0];
        fragment.append(mark);
        first = first || mark;
        at = m.index + m[0].length;
      }
      fragment.append(text.slice(at));
      node.replaceWith(fragment);
    }
    if (first && !location.hash) first.scrollIntoView({ block: "center" });
  }
})();
