// Browser tests: a real `quire serve` over a copy of the demo handbook,
// driven in Debian's headless Chromium by playwright-core (no browser is
// downloaded). Each module in tests/*.mjs exports `name` and `run(ctx)`.
//
//   cd tests/browser && npm ci && node run.mjs
//
// QUIRE_BIN overrides the server binary (default: target/debug/quire);
// CHROMIUM the browser (default: /usr/bin/chromium). Screenshots go to
// target/screenshots/.

import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const quireBin = process.env.QUIRE_BIN || path.join(repo, "target/debug/quire");
const screenshots = path.join(repo, "target/screenshots");
const STARTUP_DEADLINE_MS = 60_000;

/** Starts quire over a temporary copy of content/; resolves to its base URL. */
async function startQuire(work) {
  const contentDir = path.join(work, "content");
  cpSync(path.join(repo, "content"), contentDir, { recursive: true });
  writeFileSync(
    path.join(work, "quire.toml"),
    [
      `content = "content"`,
      `themes = ${JSON.stringify(path.join(repo, "themes"))}`,
      `data = "data"`,
      `bind = "127.0.0.1:0"`,
      `[sidebar]`,
      // The test's host page is another loopback origin.
      `frame_origins = ["http://127.0.0.1:*"]`,
      "",
    ].join("\n"),
  );
  const child = spawn(quireBin, ["--config", path.join(work, "quire.toml"), "serve"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("quire did not start:\n" + log)), STARTUP_DEADLINE_MS);
    child.stderr.on("data", (chunk) => {
      log += chunk;
      const m = log.match(/on (http:\/\/[0-9.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`quire exited (${code}):\n${log}`)));
  });
  const started = Date.now();
  while (Date.now() - started < STARTUP_DEADLINE_MS) {
    const ok = await fetch(base + "/healthz").then((r) => r.ok, () => false);
    if (ok) return { child, base, contentDir };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("quire never became ready:\n" + log);
}

/** A page on another origin that embeds the sidebar, as an inbox would. */
async function startHostPage(base) {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(`<!doctype html><title>Inbox</title><h1>Inbox</h1>
<iframe id="sidebar" title="Quire" src="${base}/sidebar" width="320" height="700"
        allow="clipboard-read; clipboard-write"></iframe>`);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

const axeSource = readFileSync(path.join(here, "node_modules/axe-core/axe.min.js"), "utf8");

/** Serious and critical axe-core violations on the page. Injected through
 * the debugging protocol, so the page's CSP (no inline script) stays on. */
async function axe(page) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document));
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

async function main() {
  mkdirSync(screenshots, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), "quire-browser-"));
  const quire = await startQuire(work);
  const host = await startHostPage(quire.base);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const only = process.argv[2];
  const modules = readdirSync(path.join(here, "tests"))
    .filter((f) => f.endsWith(".mjs") && (!only || f.includes(only)))
    .sort();
  let failed = 0;
  try {
    for (const file of modules) {
      const test = await import(path.join(here, "tests", file));
      const context = await browser.newContext();
      const started = Date.now();
      try {
        await test.run({
          browser,
          context,
          base: quire.base,
          hostPage: host.url,
          contentDir: quire.contentDir,
          screenshot: (page, name) => page.screenshot({ path: path.join(screenshots, name + ".png"), fullPage: true }),
          axe,
          assert,
        });
        console.log(`ok - ${test.name} (${Date.now() - started} ms)`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${test.name}: ${e.stack || e}`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    host.server.close();
    quire.child.kill();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`browser: ${modules.length - failed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
