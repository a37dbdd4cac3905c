// Smoke test: the home page loads with its search box, at phone and desktop
// width. axe-core's serious and critical findings are printed, not failed
// on (site.mjs holds the home page to zero of them).

import path from "node:path";

export const name = "home: search box, phone and desktop screenshots, axe report";

const SIZES = [
  ["phone", { width: 390, height: 844 }],
  ["desktop", { width: 1280, height: 800 }],
];

export async function run({ context, base, screenshotsDir, axe, assert }) {
  const page = await context.newPage();
  const response = await page.goto(base + "/");
  assert.equal(response.status(), 200);
  assert.equal(await page.locator("input[name=q]").count(), 1, "one search box, input[name=q]");

  for (const [size, viewport] of SIZES) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(screenshotsDir, `home-${size}.png`), fullPage: true });
  }

  const violations = await axe(page);
  for (const v of violations) {
    const where = v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ");
    console.log(`# axe on /: ${v.id} (${v.impact}): ${v.help} — ${where}`);
  }
  if (violations.length === 0) console.log("# axe on /: no serious or critical violations");
}
