// An Obsidian vault (tests/vault/, copied into the served folder as
// `obsidian/`): callouts, folded callouts, highlights and embedded notes as
// a reader sees them, light and dark, with no serious accessibility
// violation (colour contrast included).

import { cpSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const name = "vault: callouts, highlights and embeds, light and dark";

const here = path.dirname(fileURLToPath(import.meta.url));
const HOME = "/cards/obsidian/en/Home";
const DEADLINE_MS = 10_000;

export async function run({ context, base, contentDir, screenshot, axe, assert }) {
  cpSync(path.join(here, "../../vault"), path.join(contentDir, "obsidian"), { recursive: true });
  // Quire picks the new folder up; the home note is ready once both of
  // its embedded notes are indexed too.
  const started = Date.now();
  let embeds = 0;
  while (Date.now() - started < DEADLINE_MS && embeds < 2) {
    const answer = await fetch(base + "/api/v1/cards/obsidian/en/Home").then((r) => (r.ok ? r.json() : null), () => null);
    embeds = answer ? answer.html.split('<div class="embed">').length - 1 : 0;
    if (embeds < 2) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(embeds, 2, "the vault's home note is served with its two embeds");
  const page = await context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });

  for (const scheme of ["light", "dark"]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(base + HOME);
    const tip = page.locator(".callout-tip").first();
    assert.equal(await tip.locator(".callout-title").innerText(), "Where to start");
    // A folded callout opens on a click, as in Obsidian.
    const folded = page.locator("details.callout-note");
    assert.equal(await folded.getAttribute("open"), null);
    await folded.locator("summary").click();
    assert.notEqual(await folded.getAttribute("open"), null);
    assert.equal(await page.locator("details.callout-warning[open] .callout-info").count(), 1);
    assert.equal(await page.locator("mark").innerText(), "Never promise a refund in the first reply.");
    assert.equal(await page.locator(".embed").count(), 2);
    // The callout's edge is coloured, not the page's line colour.
    const edge = await tip.evaluate((el) => getComputedStyle(el).borderLeftColor);
    const line = await tip.evaluate((el) => getComputedStyle(el).borderTopColor);
    assert.notEqual(edge, line, "a tip has its own colour");
    const violations = await axe(page);
    assert.deepEqual(
      violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`),
      [],
      `accessibility violations on the vault's home (${scheme})`,
    );
    await screenshot(page, `vault-home-${scheme}`);
  }
}
