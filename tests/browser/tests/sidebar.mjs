// The inbox sidebar, framed by a page on another origin as an inbox plugin
// is: type a query, see results while typing, open a card in place with
// the keyboard, copy its answer.

export const name = "sidebar in a cross-origin iframe: search while typing, open, copy the answer";

const REFUNDS = "playbooks/refunds/annual-plans";

export async function run({ context, base, hostPage, screenshot, axe, assert }) {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  await context.grantPermissions(["clipboard-read"], { origin: new URL(hostPage).origin });
  const page = await context.newPage();
  await page.setViewportSize({ width: 800, height: 800 });
  await page.goto(hostPage);
  const frame = page.frameLocator("#sidebar");

  // Typed key by key, as an agent types; results appear without Enter.
  const box = frame.locator("#q");
  await box.click();
  await box.pressSequentially("refund annual", { delay: 40 });
  const hit = frame.locator(`li.sb-hit[data-id="${REFUNDS}"]`);
  await hit.waitFor({ timeout: 10_000 });
  assert.match(await hit.locator(".sb-badge").first().innerText(), /verified/);
  assert.match(await hit.locator(".sb-snippet").innerHTML(), /<mark>/);

  // Arrow down to the first result, Enter opens it in place.
  const first = frame.locator("li.sb-hit").first();
  assert.equal(await first.getAttribute("data-id"), REFUNDS, "the refunds card comes first");
  await box.press("ArrowDown");
  await page.keyboard.press("Enter");
  const reply = first.locator(".sb-reply");
  await reply.waitFor({ timeout: 10_000 });
  const expected = await fetch(`${base}/api/v1/cards/${REFUNDS}`).then((r) => r.json());
  assert.equal(await reply.innerText(), expected.reply_text);

  // Copy the answer: the clipboard holds the card's reply text.
  await first.locator("button.copy").click();
  await frame.locator("#status", { hasText: "Answer copied" }).waitFor({ timeout: 5_000 });
  // Read back from the top page: the clipboard is the browser's, and the
  // frame has write access only, as an inbox grants.
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, expected.reply_text);
  await screenshot(page, "sidebar-in-inbox");

  // A card with no customer reply offers its link, never its internal text.
  await box.fill("angry customer");
  const internal = frame.locator('li.sb-hit[data-id="playbooks/difficult/angry-customers"]');
  await internal.waitFor({ timeout: 10_000 });
  await internal.locator(".sb-title").click();
  await internal.locator(".sb-no-reply").waitFor({ timeout: 10_000 });
  assert.equal(await internal.locator("button.copy").count(), 0, "Copy answer offered for internal text");
  await internal.locator("button.copy-link").click();
  await frame.locator("#status", { hasText: "Link copied" }).waitFor({ timeout: 5_000 });
  const link = await page.evaluate(() => navigator.clipboard.readText());
  assert.ok(link.endsWith("/cards/playbooks/difficult/angry-customers"), link);

  // A misspelt word offers its correction, one click away.
  const alone = await context.newPage();
  await alone.setViewportSize({ width: 320, height: 700 });
  // Loaded with the team's language, as an inbox app can be configured.
  const searches = [];
  alone.on("request", (r) => r.url().includes("/api/v1/search") && searches.push(r.url()));
  await alone.goto(base + "/sidebar?prefer_lang=ro");
  await alone.locator("#q").fill("refnud ");
  const offer = alone.locator("button.sb-did-you-mean");
  await offer.waitFor({ timeout: 10_000 });
  assert.equal((await offer.innerText()).trim(), "refund");
  await offer.click();
  assert.equal(await alone.locator("#q").inputValue(), "refund ");
  await alone.locator("li.sb-hit").first().waitFor();
  assert.ok(searches.length > 0 && searches.every((u) => u.includes("prefer_lang=ro")), searches.join(" "));

  // The agent's own language, chosen in the sidebar and remembered in this
  // browser: a translated card is shown in it, once.
  await alone.locator("#lang").selectOption("ru");
  await alone.waitForFunction(() =>
    [...document.querySelectorAll("li.sb-hit")].some((li) => li.textContent.includes("Возврат средств")),
  );
  assert.ok(searches.at(-1).includes("prefer_lang=ru"), searches.at(-1));
  const titles = await alone.locator("li.sb-hit").allInnerTexts();
  assert.ok(!titles.some((t) => t.includes("Refunds on annual plans")), titles.join(" | "));
  await alone.reload();
  assert.equal(await alone.locator("#lang").inputValue(), "ru");

  // The page itself passes axe with no violation, light and dark, with
  // highlighted results on it.
  await alone.locator("#q").fill("refund");
  await alone.locator("li.sb-hit mark").first().waitFor();
  for (const scheme of ["light", "dark"]) {
    await alone.emulateMedia({ colorScheme: scheme });
    const violations = await axe(alone);
    assert.deepEqual(
      violations.map((v) => `${v.id}: ${v.help}`),
      [],
      `accessibility violations on /sidebar (${scheme})`,
    );
  }
  await alone.emulateMedia({ colorScheme: "light" });

  // A vote is shown pressed, with Undo; "Outdated" asks what is wrong.
  await alone.locator("#lang").selectOption("");
  await alone.locator("#q").fill("gdpr deletion");
  const gdpr = alone.locator('li.sb-hit[data-id="playbooks/account/gdpr-deletion"]');
  await gdpr.waitFor({ timeout: 10_000 });
  await gdpr.locator(".sb-title").click();
  await gdpr.locator("button.outdated").click();
  await gdpr.locator(".sb-why").fill("the 30-day window is now 14 days");
  await gdpr.locator(".sb-vote button.primary").click();
  await gdpr.locator('button.outdated[aria-pressed="true"]').waitFor({ timeout: 5_000 });
  const flags = await fetch(`${base}/api/v1/cards/playbooks/account/gdpr-deletion/feedback`).then((r) => r.json());
  assert.equal(flags.feedback[0].comment, "the 30-day window is now 14 days");
  // One vote per card: "Helpful" replaces it, Undo takes that back too.
  await gdpr.locator("button.helpful").click();
  await gdpr.locator('button.helpful[aria-pressed="true"]').waitFor({ timeout: 5_000 });
  assert.equal(await gdpr.locator('button.outdated[aria-pressed="true"]').count(), 0);
  await gdpr.locator("button.sb-undo").click();
  await gdpr.locator('button.helpful[aria-pressed="false"]').waitFor({ timeout: 5_000 });
  const after = await fetch(`${base}/api/v1/cards/playbooks/account/gdpr-deletion/feedback`).then((r) => r.json());
  assert.equal(after.feedback.length, 0, JSON.stringify(after));

  // A pasted customer message is matched like a conversation.
  await alone.locator(".sb-paste summary").click();
  await alone
    .locator("#paste")
    .fill("Hello, we paid for the whole year last week but the team decided not to use it. Can we get our money back?");
  await alone.locator(".sb-paste button").click();
  await alone.locator("#status", { hasText: "Cards for the pasted message" }).waitFor({ timeout: 10_000 });
  const matched = await alone.locator("li.sb-hit").first().getAttribute("data-id");
  assert.ok(matched.startsWith("playbooks/refunds/"), matched);

  // Nothing typed: the cards read most and updated last.
  await alone.locator("#q").fill("x");
  await alone.locator("#q").fill("");
  await alone.locator("#start h2").first().waitFor({ timeout: 10_000 });
  assert.ok((await alone.locator("#start li a").count()) > 0);
}
