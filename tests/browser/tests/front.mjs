// The sidebar as a Front plugin, against a stand-in for Front: a page on
// another loopback origin frames /sidebar?inbox=front and speaks the plugin
// SDK's protocol (@frontapp/plugin-sdk 1.10.0, vendored): it takes the SDK's
// handshake port, sends a singleConversation context, answers listMessages
// and records updateDraft. This checks the vendored bundle and sidebar.js
// together: the open conversation is matched before the agent types, and
// "Insert link" inserts into the reply draft.

import http from "node:http";

export const name = "sidebar in Front (stand-in host): conversation matched, link inserted into the draft";

const REFUNDS = "playbooks/refunds/annual-plans";

// Runs in the host page. The protocol, from the SDK's source: the frame
// posts "@frontapp/ui-sdk#WebViewBridge.handshake" to its parent with a
// MessagePort; the host sends {type: "context_update", context} on it, where
// context.functionArities names the context's functions (arity counts the
// trailing cancel token); a call arrives as {type: "function_call", id,
// contextId, name, args} and is answered {type: "function_result", id, value}.
const fakeFront = `
window.calls = [];
const context = {
  id: "ctx-1",
  type: "singleConversation",
  functionArities: { listMessages: 2, updateDraft: 3, createDraft: 2 },
  preferences: {}, authentication: {}, teammate: { id: "tea_1", name: "Agent" },
  conversation: {
    id: "cnv_1", type: "email", status: "open",
    subject: "Refund for our annual plan",
    blurb: "We upgraded by mistake",
    tags: [{ id: "tag_1", name: "billing" }],
    draftId: "drf_1",
  },
};
const messages = {
  results: [
    { id: "msg_1", status: "inbound", subject: "Refund for our annual plan",
      content: { type: "html", attachments: [],
        body: "<p>Hi, we bought the annual plan last week by mistake. Can we get a refund on the annual plan?</p>" } },
  ],
  nextPageToken: undefined,
};
window.addEventListener("message", (e) => {
  if (e.data !== "@frontapp/ui-sdk#WebViewBridge.handshake") return;
  const port = e.ports[0];
  port.onmessage = (m) => {
    const call = m.data;
    if (call.type !== "function_call") return;
    window.calls.push({ name: call.name, args: call.args, contextId: call.contextId });
    const value = call.name === "listMessages" ? messages : call.name === "createDraft" ? { id: "drf_2" } : undefined;
    port.postMessage({ type: "function_result", id: call.id, value });
  };
  port.postMessage({ type: "context_update", context });
});
`;

export async function run({ context, base, assert, screenshot }) {
  const server = http.createServer((req, res) => {
    if (req.url === "/front.js") {
      res.writeHead(200, { "content-type": "text/javascript" });
      return res.end(fakeFront);
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>Front</title><script src="/front.js"></script>
<iframe id="plugin" title="Quire" src="${base}/sidebar?inbox=front" width="360" height="760"></iframe>`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const page = await context.newPage();
    await page.setViewportSize({ width: 800, height: 800 });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const frame = page.frameLocator("#plugin");

    // Matched from the conversation before anything is typed.
    await frame.locator("#status", { hasText: "Suggested for this conversation" }).waitFor({ timeout: 10_000 });
    const hit = frame.locator(`li.sb-hit[data-id="${REFUNDS}"]`);
    await hit.waitFor({ timeout: 5_000 });
    const calls = () => page.evaluate(() => window.calls);
    assert.ok((await calls()).some((c) => c.name === "listMessages" && c.contextId === "ctx-1"), "listMessages was called");

    // Open the card, insert its link: an updateDraft call on the draft.
    await hit.locator(".sb-title").click();
    await hit.locator("button.link").click();
    await frame.locator("#status", { hasText: "Link inserted into the reply" }).waitFor({ timeout: 5_000 });
    const update = (await calls()).find((c) => c.name === "updateDraft");
    assert.ok(update, "updateDraft was called");
    const [draftId, change] = update.args;
    console.log(`# updateDraft(${JSON.stringify(draftId)}, ${JSON.stringify(change)})`);
    assert.equal(draftId, "drf_1");
    assert.equal(change.updateMode, "insert");
    assert.equal(change.content.type, "html");
    assert.match(change.content.body, /^<a href="[^"]*annual-plans[^"]*">[^<]+<\/a>$/);
    await screenshot(page, "sidebar-in-front");
  } finally {
    server.close();
  }
}
