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
    fetch("/api/v1/search?limit=8&q=" + encodeURIComponent(q), { signal: inflight.signal, headers: { Accept: "application/json" } })
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
})();
