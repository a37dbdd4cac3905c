// Insights count what readers settle on, not each pause in their typing:
// a query typed key by key in the sidebar is logged once.

export const name = "insights: a typing session in the sidebar logs only the settled query";

export async function run({ context, base, assert }) {
  const before = await fetch(base + "/insights?days=7&format=json").then((r) => r.json());
  const page = await context.newPage();
  await page.goto(base + "/sidebar");
  await page.locator("#q").pressSequentially("escalation tier", { delay: 150 });
  await page.locator("li.sb-hit").first().waitFor({ timeout: 10_000 });
  // The settled query is logged after a pause; poll the insights for it.
  const deadline = Date.now() + 15_000;
  let report = null;
  for (;;) {
    report = await fetch(base + "/insights?days=7&format=json").then((r) => r.json());
    if (report.top_queries.some((q) => q.text === "escalation tier")) break;
    if (Date.now() > deadline) throw new Error("the settled query was never logged: " + JSON.stringify(report));
    await new Promise((r) => setTimeout(r, 200));
  }
  const logged = report.top_queries.map((q) => q.text).filter((t) => t.startsWith("esc"));
  assert.deepEqual(logged, ["escalation tier"], "prefixes typed on the way are not logged");
  assert.equal(report.searches - before.searches, 1, "one search logged for the whole burst");
}
