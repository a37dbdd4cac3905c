// Every kind of page at phone width (390 and 360 px) and desktop width, in
// light and dark: nothing scrolls sideways, axe-core finds no violation of
// any impact, and on /search the first result is on the first screen.

export const name = "every page: no sideways scroll at 360-390 px, axe clean light and dark";

const PAGES = [
  "/",
  "/collections",
  "/collections/playbooks",
  "/cards/playbooks/refunds/annual-plans",
  "/cards/playbooks/account/gdpr-deletion", // a task list
  "/search?q=refund",
  "/search?q=zzqxw+blorptang",
  "/tags",
  "/tags/billing",
  "/insights",
  "/problems",
  "/verification",
  "/sidebar",
  "/no/such/page",
];

// Screenshots (target/screenshots, kept by CI): name by page.
const SHOTS = {
  "/": "home",
  "/cards/playbooks/refunds/annual-plans": "card",
  "/search?q=refund": "search",
  "/sidebar": "sidebar",
};

const SIZES = [
  { width: 390, height: 844 },
  { width: 360, height: 740 },
  { width: 1280, height: 900 },
];

function describe(violations) {
  return violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`,
  );
}

export async function run({ browser, base, axe, assert, screenshot }) {
  // A search and a flag first, so /insights has rows (and links) to check.
  await fetch(base + "/api/v1/search?q=refund");
  await fetch(base + "/api/v1/cards/playbooks/refunds/annual-plans/feedback", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ verdict: "outdated", comment: "the 30-day window changed" }),
  });
  const failures = [];
  for (const scheme of ["light", "dark"]) {
    for (const size of SIZES) {
      const context = await browser.newContext({ viewport: size, colorScheme: scheme });
      const page = await context.newPage();
      for (const path of PAGES) {
        await page.goto(base + path);
        const where = `${path} at ${size.width} px, ${scheme}`;
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        if (wide > size.width) failures.push(`${where}: ${wide} px wide`);
        // Colours are checked once per scheme; the rest at every width.
        const violations = await axe(page);
        for (const v of describe(violations)) failures.push(`${where}: ${v}`);
        const shot = SHOTS[path];
        if (shot && size.width !== 360) await screenshot(page, `${shot}-${size.width}-${scheme}`);
      }
      if (size.width === 390) {
        await page.goto(base + "/search?q=refund");
        const top = await page.locator(".result").first().boundingBox();
        if (!top || top.y + 40 > size.height) failures.push(`/search at 390 px: first result at ${top && top.y}`);
        // The folded menu opens and every link is reachable.
        await page.locator(".menu-toggle").click();
        const links = await page.locator("#site-nav a").count();
        const visible = await page.locator("#site-nav a:visible").count();
        if (links !== visible || links === 0) failures.push(`menu at 390 px shows ${visible} of ${links} links`);
        if (scheme === "dark") await screenshot(page, "search-menu-phone-dark");
      }
      await context.close();
    }
  }
  assert.deepEqual(failures, [], "pages that scroll sideways or fail axe");
}
