// Browser tests: a real `quire serve` over a copy of the demo handbook,
// driven in Debian's headless Chromium by playwright-core (no browser is
// downloaded). Each module in tests/*.mjs exports `name` and `run(ctx)`.
//
//   cd tests/browser && npm ci && node run.mjs
//
// QUIRE_BIN overrides the server binary (default: <repo>/target/debug/quire;
// a relative QUIRE_BIN is taken from the current directory); CHROMIUM the
// browser (default: /usr/bin/chromium). `node run.mjs sidebar` runs only the
// modules whose file name contains "sidebar". Screenshots go to
// <repo>/target/screenshots/.
//
// A test module exports `name` and `async run(ctx)`; ctx holds
//   browser, context (a fresh browser context, closed after the test),
//   base (quire's URL), hostPage (a page on another loopback origin that
//   frames BASE/sidebar), contentDir (the temporary copy of content/, which
//   quire watches), screenshotsDir, screenshot(page, name), axe(page)
//   (violations of any impact) and assert (node:assert/strict).

import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const quireBin = process.env.QUIRE_BIN ? path.resolve(process.env.QUIRE_BIN) : path.join(repo, "target/debug/quire");
const screenshots = path.join(repo, "target/screenshots");
const STARTUP_DEADLINE_MS = 60_000;

/** Starts quire over a temporary copy of content/; resolves to its base URL. */
async function startQuire(work) {
  if (!existsSync(quireBin)) {
    throw new Error(`no quire binary at ${quireBin}: run \`cargo build\` or set QUIRE_BIN`);
  }
  const contentDir = path.join(work, "content");
  const dataDir = path.join(work, "data");
  cpSync(path.join(repo, "content"), contentDir, { recursive: true });
  mkdirSync(dataDir);
  // The configuration file holds what has no flag: the repository's themes
  // (so theme edits are tested without a rebuild) and the sidebar's framing
  // origins. Content, data and bind are given as flags, which override it.
  const config = path.join(work, "quire.toml");
  writeFileSync(
    config,
    [
      `themes = ${JSON.stringify(path.join(repo, "themes"))}`,
      `[sidebar]`,
      // The test's host page is another loopback origin.
      `frame_origins = ["http://127.0.0.1:*"]`,
      "",
    ].join("\n"),
  );
  const child = spawn(
    quireBin,
    ["--config", config, "--content", contentDir, "--data", dataDir, "serve", "--bind", "127.0.0.1:0"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`quire printed no address within ${STARTUP_DEADLINE_MS / 1000} s:\n${log}`)),
        STARTUP_DEADLINE_MS,
      );
      child.stderr.on("data", (chunk) => {
        log += chunk;
        const m = log.match(/on (http:\/\/[0-9.:]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on("error", (e) => reject(new Error(`cannot start ${quireBin}: ${e.message}`)));
      child.on("exit", (code, signal) => reject(new Error(`quire exited (${code ?? signal}):\n${log}`)));
    });
    const started = Date.now();
    while (Date.now() - started < STARTUP_DEADLINE_MS) {
      const ok = await fetch(base + "/healthz").then((r) => r.status === 200, () => false);
      if (ok) return { child, stop, base, contentDir };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("quire never answered /healthz with 200:\n" + log);
  } catch (e) {
    await stop();
    throw e;
  }
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

const axePath = path.join(here, "node_modules/axe-core/axe.min.js");
const axeSource = readFileSync(axePath, "utf8");

/** axe-core's violations on the page, of any impact. axe.min.js is
 * evaluated through the debugging protocol, not added as a script tag: the
 * page keeps its CSP, and the CSP check below sees only the page's own
 * violations. */
async function axe(page) {
  const loaded = () => page.evaluate(() => typeof window.axe === "object").catch(() => false);
  if (!(await loaded())) await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document));
  return results.violations;
}

async function main() {
  mkdirSync(screenshots, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), "quire-browser-"));
  let quire = null;
  let host = null;
  let browser = null;
  const cleanUp = async () => {
    await browser?.close().catch(() => {});
    host?.server.close();
    await quire?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => cleanUp().finally(() => process.exit(130)));
  }
  let failed = 0;
  let modules = [];
  try {
    quire = await startQuire(work);
    host = await startHostPage(quire.base);
    // launch() gives the browser a fresh, temporary user-data-dir of its own
    // (Playwright refuses --user-data-dir in args); it is removed on close.
    browser = await chromium.launch({
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
    modules = readdirSync(path.join(here, "tests"))
      .filter((f) => f.endsWith(".mjs") && (!only || f.includes(only)))
      .sort();
    for (const file of modules) {
      const test = await import(path.join(here, "tests", file));
      const context = await browser.newContext();
      // Every page must run under its CSP without a single refusal: no
      // inline script or style, nothing from another host.
      const cspViolations = [];
      context.on("page", (page) =>
        page.on("console", (msg) => {
          if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) {
            cspViolations.push(`${page.url()}: ${msg.text()}`);
          }
        }),
      );
      const started = Date.now();
      try {
        await test.run({
          browser,
          context,
          base: quire.base,
          hostPage: host.url,
          contentDir: quire.contentDir,
          screenshotsDir: screenshots,
          screenshot: (page, name) => page.screenshot({ path: path.join(screenshots, name + ".png"), fullPage: true }),
          axe,
          assert,
        });
        assert.deepEqual(cspViolations, [], "CSP violations");
        console.log(`ok - ${test.name} (${Date.now() - started} ms)`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${test.name}: ${e.stack || e}`);
      } finally {
        await context.close();
      }
    }
  } finally {
    await cleanUp();
  }
  console.log(`browser: ${modules.length - failed} passed, ${failed} failed`);
  process.exit(failed || modules.length === 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
