// The inbox sidebar: search while typing, expand a card in place, copy its
// answer, insert its link, say whether it helped. No framework. Inside
// Front, the open conversation is matched before the agent types anything.
//
// A token, when the API needs one, comes in the URL fragment
// (`/sidebar#token=...`, never sent to servers or logs) and is kept for the
// tab's life in sessionStorage.
"use strict";

(function () {
  const root = document.querySelector(".sb");
  const box = document.getElementById("q");
  const list = document.getElementById("results");
  const status = document.getElementById("status");
  const base = root.dataset.base || location.origin;
  const DEBOUNCE_MS = 120;
  // The agent's language: chosen in the sidebar (remembered in this
  // browser), else the team's for this inbox (`/sidebar?prefer_lang=ro`);
  // sent with every search and match, before the browser's Accept-Language.
  // A family of translated cards is shown in it.
  const chooser = document.getElementById("lang");
  function remembered() {
    try {
      return localStorage.getItem("quire-lang") || "";
    } catch (_) {
      return ""; // storage blocked in a third-party frame
    }
  }
  const preferred = () =>
    (chooser && chooser.value) || new URLSearchParams(location.search).get("prefer_lang") || "";
  const langParam = () => (preferred() ? "&prefer_lang=" + encodeURIComponent(preferred()) : "");
  if (chooser) {
    chooser.value = remembered();
    chooser.addEventListener("change", () => {
      try {
        localStorage.setItem("quire-lang", chooser.value);
      } catch (_) {
        /* the choice lasts for this page only */
      }
      if (box.value.trim()) box.dispatchEvent(new Event("input"));
    });
  }

  const token = (() => {
    const fromHash = new URLSearchParams(location.hash.slice(1)).get("token");
    try {
      if (fromHash) sessionStorage.setItem("quire-token", fromHash);
      return fromHash || sessionStorage.getItem("quire-token");
    } catch (_) {
      return fromHash; // storage blocked in a third-party frame
    }
  })();
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);

  function api(path, options) {
    const headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(path, Object.assign({}, options, { headers }));
  }

  async function json(response) {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.message || "HTTP " + response.status);
    return body;
  }

  function say(text) {
    status.textContent = text;
  }

  // --- results -----------------------------------------------------------

  let selected = -1;

  function render(hits, heading) {
    const start = document.getElementById("start");
    if (start) start.hidden = true;
    list.textContent = "";
    selected = -1;
    hits.forEach((hit, i) => list.appendChild(item(hit, i)));
    say(heading);
  }

  function item(hit, i) {
    const li = document.createElement("li");
    li.className = "sb-hit";
    li.id = "hit-" + i;
    li.dataset.id = hit.id;
    li.dataset.url = base + hit.url;

    const title = document.createElement("button");
    title.type = "button";
    title.className = "sb-title";
    title.setAttribute("aria-expanded", "false");
    const name = document.createElement("span");
    name.textContent = hit.title;
    const badge = document.createElement("span");
    badge.className = "sb-badge " + hit.trust;
    badge.textContent = hit.trust;
    title.append(name, badge);
    if (hit.outdated) {
      const flag = document.createElement("span");
      flag.className = "sb-badge flagged";
      flag.textContent = "flagged outdated";
      flag.title = hit.outdated + " reader(s) flagged this card as outdated: check before sending";
      title.append(flag);
    }
    title.addEventListener("click", () => toggle(li));

    const snippet = document.createElement("p");
    snippet.className = "sb-snippet";
    // The server escapes snippets and adds only <mark>.
    snippet.innerHTML = hit.snippet || "";
    if (hit.matched && hit.matched.length) {
      snippet.title = "Matched: " + hit.matched.join(", ");
    }

    // One card per family: its other languages, a click away.
    const also = document.createElement("p");
    also.className = "sb-also";
    (hit.translations || []).forEach((t, n) => {
      if (n) also.append(" · ");
      const link = document.createElement("a");
      link.href = base + t.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.lang = t.lang;
      link.hreflang = t.lang;
      link.title = t.title;
      link.textContent = t.lang;
      also.append(link);
    });
    if (also.childNodes.length) also.prepend("Also in ");

    const preview = document.createElement("div");
    preview.className = "sb-preview";
    preview.hidden = true;
    li.append(title, snippet);
    if (also.childNodes.length) li.append(also);
    li.append(preview);
    return li;
  }

  async function toggle(li) {
    if (unsettled) settle();
    const preview = li.querySelector(".sb-preview");
    const button = li.querySelector(".sb-title");
    if (!preview.hidden) {
      preview.hidden = true;
      button.setAttribute("aria-expanded", "false");
      return;
    }
    if (!preview.dataset.loaded) {
      preview.textContent = "Loading…";
      try {
        const q = box.value.trim() ? "?q=" + encodeURIComponent(box.value.trim()) : "";
        const card = await json(await api("/api/v1/cards/" + encodeId(li.dataset.id) + q));
        fill(preview, card, li);
        preview.dataset.loaded = "1";
      } catch (e) {
        preview.textContent = "Could not load the card: " + e.message;
      }
    }
    preview.hidden = false;
    button.setAttribute("aria-expanded", "true");
  }

  function encodeId(id) {
    return id.split("/").map(encodeURIComponent).join("/");
  }

  function fill(preview, card, li) {
    preview.textContent = "";
    const meta = document.createElement("p");
    meta.className = "sb-meta";
    const trust =
      card.trust === "verified"
        ? "Verified" + (card.verified_by ? " by " + card.verified_by : "") + (card.verified_until ? " until " + card.verified_until : "")
        : card.trust === "stale"
          ? "Stale since " + (card.verified_until || "?") + ": check before sending"
          : "Never verified";
    meta.textContent =
      trust +
      (card.outdated ? " · flagged outdated by " + card.outdated + " reader(s)" : "") +
      (card.owner ? " · owner " + card.owner : "");

    // Only a card's reply text is for customers; a card without one is
    // internal reading, and its link is what to send.
    const reply = document.createElement("p");
    reply.className = card.reply_text ? "sb-reply" : "sb-no-reply";
    reply.textContent =
      card.reply_text || "No customer reply on this card: its text is for the team. Insert the link, or write your own.";

    const body = document.createElement("div");
    body.className = "sb-body";
    // Sanitized on the server (ammonia): no scripts, handlers or iframes.
    body.innerHTML = card.html;

    const actions = document.createElement("div");
    actions.className = "sb-actions";
    actions.append(
      card.reply_text
        ? action("Copy answer", "primary copy", () => copy(card.reply_text, "Answer copied"))
        : action("Copy link", "primary copy-link", () => copy(li.dataset.url, "Link copied")),
      action("Insert link", "link", () => insertLink(card, li.dataset.url)),
    );
    const votes = voting(card);
    actions.append(votes.helpful, votes.outdated);
    const open = document.createElement("a");
    open.href = li.dataset.url;
    open.target = "_blank";
    open.rel = "noopener";
    open.textContent = "Open";
    actions.append(open);
    preview.append(meta, reply, actions, votes.panel, body);
  }

  function action(label, className, run) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = label;
    b.addEventListener("click", run);
    return b;
  }

  async function copy(text, done) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (_) {
      // Frames without clipboard permission: the old way still works.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      const ok = document.execCommand("copy");
      area.remove();
      if (!ok) return say("Copy failed: select the text and copy it by hand");
    }
    say(done);
  }

  // --- feedback: one vote per card in this browser, pressed, undoable ---------
  // The vote is remembered here (id and verdict) so the buttons show it
  // when the card is opened again; "Undo" takes it back on the server.
  function votesKept() {
    try {
      return JSON.parse(localStorage.getItem("quire-votes") || "{}");
    } catch (_) {
      return {};
    }
  }
  function keepVote(cardId, vote) {
    const all = votesKept();
    if (vote) all[cardId] = vote;
    else delete all[cardId];
    try {
      localStorage.setItem("quire-votes", JSON.stringify(all));
    } catch (_) {
      /* remembered for this page only */
    }
  }

  function voting(card) {
    const helpful = action("Helpful", "helpful", () => vote("helpful"));
    const outdated = action("Outdated", "outdated", () => vote("outdated"));
    const panel = document.createElement("div");
    panel.className = "sb-vote";
    let current = votesKept()[card.id] || null;

    function show() {
      helpful.setAttribute("aria-pressed", String(!!current && current.verdict === "helpful"));
      outdated.setAttribute("aria-pressed", String(!!current && current.verdict === "outdated"));
      panel.textContent = "";
      if (!current) return;
      const text = document.createElement("span");
      text.textContent = current.verdict === "helpful" ? "You marked this helpful." : "You flagged this as outdated.";
      const undo = action("Undo", "link sb-undo", undoVote);
      panel.append(text, " ", undo);
    }

    async function vote(verdict) {
      if (current && current.verdict === verdict) return;
      if (current && !(await undoVote())) return;
      if (verdict === "outdated") return askWhy();
      await send("helpful", undefined);
    }

    // "Outdated" asks what is wrong (optional), so the owner knows what to fix.
    function askWhy() {
      panel.textContent = "";
      const label = document.createElement("label");
      label.textContent = "What is out of date? (optional)";
      const input = document.createElement("input");
      input.type = "text";
      input.maxLength = 500;
      input.className = "sb-why";
      label.append(input);
      const sendButton = action("Send", "primary", () => send("outdated", input.value.trim() || undefined));
      const cancel = action("Cancel", "link", show);
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          sendButton.click();
        }
      });
      panel.append(label, sendButton, cancel);
      input.focus();
    }

    async function send(verdict, comment) {
      try {
        const stored = await json(
          await api("/api/v1/cards/" + encodeId(card.id) + "/feedback", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ verdict, comment }),
          }),
        );
        current = { verdict, id: stored.id, undo: stored.undo_token };
        keepVote(card.id, current);
        show();
        say(verdict === "helpful" ? "Thanks, marked helpful" : "Thanks, the owner will check this card");
      } catch (e) {
        say("Feedback failed: " + e.message);
      }
    }

    async function undoVote() {
      if (!current) return true;
      try {
        const r = await json(
          await api("/api/v1/cards/" + encodeId(card.id) + "/feedback/" + current.id + "/undo", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ undo_token: current.undo || "" }),
          }),
        );
        if (!r.undone) {
          say("That vote is too old to take back: it stands");
          return false;
        }
        current = null;
        keepVote(card.id, null);
        show();
        say("Vote taken back");
        return true;
      } catch (e) {
        say("Undo failed: " + e.message);
        return false;
      }
    }

    show();
    return { helpful, outdated, panel };
  }

  // --- searching while typing -------------------------------------------

  let timer = 0;
  let inflight = null;
  const SHOWN = 8;

  // Searches while typing are not counted in the insights (`typing=1`);
  // the query is counted once it settles: a pause of SETTLE_MS, or a
  // result opened, whichever comes first.
  const SETTLE_MS = 1500;
  let settleTimer = 0;
  let unsettled = "";
  function settleLater(q) {
    clearTimeout(settleTimer);
    unsettled = q;
    settleTimer = setTimeout(settle, SETTLE_MS);
  }
  function settle() {
    clearTimeout(settleTimer);
    const q = unsettled;
    unsettled = "";
    if (q.trim()) api("/api/v1/search?limit=1&snippets=false&q=" + encodeURIComponent(q) + langParam()).catch(() => {});
  }

  function search() {
    const q = box.value;
    if (!q.trim()) {
      unsettled = "";
      showStart();
      return;
    }
    if (inflight) inflight.abort();
    inflight = new AbortController();
    const signal = inflight.signal;
    api("/api/v1/search?typing=1&limit=" + SHOWN + "&q=" + encodeURIComponent(q) + langParam(), { signal })
      .then(json)
      .then((r) => {
        settleLater(q);
        if (r.notice) return render(r.hits, r.notice.message);
        if (!r.total) return nothingFound(q, r.did_you_mean);
        render(r.hits, r.total > r.hits.length ? r.hits.length + " of " + r.total + " cards" : r.total + (r.total === 1 ? " card" : " cards"));
        if (r.total > r.hits.length) {
          status.append(" · ", siteLink("/search?q=" + encodeURIComponent(q), "see all " + r.total));
        }
        if (r.did_you_mean) offer(r.did_you_mean);
      })
      .catch((e) => {
        if (e.name !== "AbortError") say("Search failed: " + e.message);
      });
  }

  function siteLink(path, text) {
    const a = document.createElement("a");
    a.href = base + path;
    a.target = "_blank";
    a.rel = "noopener";
    a.textContent = text;
    return a;
  }

  // Nothing found: the next steps, not a dead end.
  function nothingFound(q, corrected) {
    render([], "No card matches.");
    if (corrected) offer(corrected);
    const words = q.trim().split(/\s+/);
    if (words.length > 1) {
      const fewer = words.slice().sort((a, b) => b.length - a.length).slice(0, Math.min(2, words.length - 1)).join(" ");
      status.append(" Fewer words: ", queryButton(fewer), ".");
    }
    status.append(" ", siteLink("/search?q=" + encodeURIComponent(q), "Search the site"), " or paste the customer's message below.");
  }

  // Before anything is typed: the conversation's suggestions inside an
  // inbox that gives them, else the cards read most and updated last.
  let highlights = null;
  async function showStart() {
    if (suggested) return render(suggested.hits, suggested.heading);
    render([], "");
    if (!highlights) {
      try {
        highlights = await json(await api("/api/v1/highlights"));
      } catch (_) {
        highlights = { popular: [], recent: [] };
      }
    }
    if (box.value.trim() || suggested) return;
    const start = document.getElementById("start");
    start.textContent = "";
    for (const [title, cards] of [["Read most", highlights.popular], ["Updated lately", highlights.recent]]) {
      if (!cards.length) continue;
      const heading = document.createElement("h2");
      heading.textContent = title;
      const ul = document.createElement("ul");
      for (const card of cards) {
        const li = document.createElement("li");
        li.append(siteLink(card.url, card.title));
        ul.append(li);
      }
      start.append(heading, ul);
    }
    start.hidden = !start.childNodes.length;
  }

  // "Did you mean": the corrected query, one click away.
  function offer(fixed) {
    status.append(" · Did you mean ", queryButton(fixed), "?");
  }

  // A query one click away: it goes into the box and is searched.
  function queryButton(query) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sb-did-you-mean";
    button.textContent = query;
    button.addEventListener("click", () => {
      box.value = query;
      search();
      box.focus();
    });
    return button;
  }

  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  // Enter opens the selected card in place instead of leaving the sidebar.
  box.form.addEventListener("submit", (e) => {
    e.preventDefault();
    const li = list.children[Math.max(selected, 0)];
    if (li) toggle(li);
  });

  // Arrows move through the results from the box or a result; Enter opens.
  root.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const n = list.children.length;
    if (!n) return;
    e.preventDefault();
    selected = e.key === "ArrowDown" ? Math.min(selected + 1, n - 1) : Math.max(selected - 1, -1);
    Array.from(list.children).forEach((li, i) => li.setAttribute("aria-selected", String(i === selected)));
    if (selected < 0) {
      box.removeAttribute("aria-activedescendant");
      box.focus();
    } else {
      box.setAttribute("aria-activedescendant", "hit-" + selected);
      list.children[selected].querySelector(".sb-title").focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== box) {
      e.preventDefault();
      box.focus();
    }
  });

  // --- a pasted customer message, matched as a conversation ----------------
  const paste = document.getElementById("paste");
  if (paste) {
    paste.form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = paste.value.trim();
      if (!text) return paste.focus();
      say("Matching the message…");
      try {
        const r = await json(
          await api("/api/v1/match", {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ subject: "", body: text, prefer_lang: preferred() || undefined }),
          }),
        );
        box.value = "";
        render(r.hits, r.hits.length ? "Cards for the pasted message" : "No card matches the message; try a few of its words in the box");
      } catch (err) {
        say("Could not match the message: " + err.message);
      }
    });
  }

  // --- Front ----------------------------------------------------------------

  let suggested = null;
  let frontContext = null;

  function insideFront() {
    if (window.parent === window) return false;
    const ancestors = location.ancestorOrigins ? Array.from(location.ancestorOrigins) : [];
    return (
      new URLSearchParams(location.search).get("inbox") === "front" ||
      ancestors.some((o) => /\.frontapp(lication)?\.com$/.test(new URL(o).hostname))
    );
  }

  async function insertLink(card, url) {
    const html = '<a href="' + encodeURI(url) + '">' + escapeHtml(card.title) + "</a>";
    const draftId = frontContext && frontContext.conversation && frontContext.conversation.draftId;
    if (frontContext && draftId) {
      try {
        await frontContext.updateDraft(draftId, {
          content: { body: html, type: "html" },
          updateMode: "insert",
        });
        return say("Link inserted into the reply");
      } catch (_) {
        /* fall through to copying */
      }
    }
    copy(url, "Link copied");
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  }

  async function matchConversation(context) {
    frontContext = context;
    if (context.type !== "singleConversation" || !context.conversation) {
      suggested = null;
      if (!box.value.trim()) showStart();
      return;
    }
    const conversation = context.conversation;
    let body = conversation.blurb || "";
    try {
      const page = await context.listMessages();
      const messages = (page && page.results) || [];
      // The customer's latest message; the match strips quotes and HTML.
      const inbound = messages.filter((m) => m.status === "inbound" && m.content && m.content.body);
      const last = inbound[inbound.length - 1];
      if (last) body = last.content.body;
    } catch (_) {
      /* the subject and blurb still say a lot */
    }
    try {
      const r = await json(
        await api("/api/v1/match", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            subject: conversation.subject || "",
            body,
            tags: (conversation.tags || []).map((t) => t.name).filter(Boolean),
            prefer_lang: preferred() || undefined,
          }),
        }),
      );
      suggested = { hits: r.hits, heading: r.hits.length ? "Suggested for this conversation" : "" };
      if (!box.value.trim()) render(suggested.hits, suggested.heading);
    } catch (e) {
      say("Could not match the conversation: " + e.message);
    }
  }

  if (insideFront()) {
    const script = document.createElement("script");
    script.src = root.dataset.frontSdk;
    script.onload = () => {
      if (window.Front && window.Front.contextUpdates) {
        window.Front.contextUpdates.subscribe(matchConversation);
      }
    };
    document.head.appendChild(script);
  }
  if (!box.value.trim()) showStart();
})();
