// The site as a new hire and an author use it: the home page, search while
// typing, a card with its contents, wiki-links and backlinks, dark mode,
// live reload; screenshots at phone and desktop width; axe on each page.

import { appendFileSync } from "node:fs";
import path from "node:path";

export const name = "site: home, search while typing, card, links, dark mode, live reload";

const REFUNDS = "/cards/playbooks/refunds/annual-plans";
const TIER2 = "/cards/escalation/tiers/tier-2";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

async function noSeriousViolations(page, axe, assert, what) {
  const violations = await axe(page);
  assert.deepEqual(
    violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`),
    [],
    `accessibility violations on ${what}`,
  );
}

async function shoot(page, screenshot, name) {
  for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]]) {
    await page.setViewportSize(viewport);
    await screenshot(page, `${name}-${size}`);
  }
}

export async function run({ context, base, contentDir, screenshot, axe, assert }) {
  const page = await context.newPage();
  await page.setViewportSize(DESKTOP);

  // Home: collections with their descriptions, recent cards, cards to verify.
  await page.goto(base + "/");
  assert.equal(await page.locator(".collection-tile").count(), 4);
  await page.locator("#recent-heading").waitFor();
  assert.ok((await page.locator("#verify-heading + ul li").count()) > 0, "cards needing verification");
  await shoot(page, screenshot, "site-home");
  await noSeriousViolations(page, axe, assert, "the home page");

  // "/" focuses the search; results come while typing; arrows and Enter open one.
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q");
  await page.keyboard.type("refunds on annual", { delay: 30 });
  const first = page.locator("#suggestions [role=option]").first();
  await first.waitFor({ timeout: 10_000 });
  assert.match(await first.innerText(), /Refunds on annual plans/);
  await page.keyboard.press("ArrowDown");
  await Promise.all([page.waitForURL("**" + REFUNDS), page.keyboard.press("Enter")]);

  // The card: contents linking to its headings, the body, backlinks, related.
  const toc = page.locator("nav.toc a");
  assert.ok((await toc.count()) >= 2, "a table of contents");
  const target = await toc.nth(1).getAttribute("href");
  await toc.nth(1).click();
  assert.ok(page.url().endsWith(target), page.url());
  assert.equal(await page.locator(`.card-body ${target}`).count(), 1, `heading ${target}`);
  assert.ok((await page.locator(".related li").count()) > 0, "related cards");
  await shoot(page, screenshot, "card");
  await noSeriousViolations(page, axe, assert, "a card page");

  // Follow a wiki-link, then come back through the target's backlinks.
  await Promise.all([page.waitForURL("**" + TIER2), page.locator(`.card-body a[href="${TIER2}"]`).first().click()]);
  const backlink = page.locator(`.backlinks a[href="${REFUNDS}"]`);
  assert.equal(await backlink.count(), 1, "the refunds card links here");
  await Promise.all([page.waitForURL("**" + REFUNDS), backlink.click()]);

  // Dark mode: the toggle switches, and the choice survives a reload.
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const before = await background();
  await page.locator("#theme-toggle").click();
  const after = await background();
  assert.notEqual(after, before, "the background changes");
  await page.reload();
  assert.equal(await background(), after, "the choice is kept");
  await page.locator("#theme-toggle").click();

  // The search page: facets, snippets, pagination, and it works as a plain form.
  await page.goto(base + "/search?q=refund");
  assert.ok((await page.locator(".result").count()) > 0);
  assert.ok((await page.locator(".facets a").count()) > 0, "facet filters");
  assert.match(await page.locator(".snippet").first().innerHTML(), /<mark>/);
  await shoot(page, screenshot, "search");
  await noSeriousViolations(page, axe, assert, "the search page");

  // Live reload: saving the card file reloads the open page.
  await page.goto(base + REFUNDS);
  await page.locator("html[data-live-reload=connected]").waitFor({ timeout: 10_000 });
  const marker = `Live reload check ${Date.now()}`;
  appendFileSync(path.join(contentDir, "playbooks/refunds/annual-plans.md"), `\n\n${marker}\n`);
  await page.locator(`text=${marker}`).waitFor({ timeout: 10_000 });
}
