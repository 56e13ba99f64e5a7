// Debian's Chromium, headless, driven by puppeteer-core; the page of a running `darkroom serve`.
import fs from 'node:fs';
import path from 'node:path';

import puppeteer from 'puppeteer-core';

const CHROMIUM = process.env.DARKROOM_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: scripts/install-deps.sh installs Debian's chromium`);
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export const byTestId = (id) => `[data-testid="${id}"]`;

// Polls fn() (an async predicate) until it returns a truthy value, which it resolves to; rejects with
// what(): a description of the state, after timeoutMs.
export async function until(fn, what, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${await what()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// A fresh page on the server's page, its own storage, ready when the form is filled from capabilities.
// The page's console errors and failed requests are collected (page.problems) so tests can assert none.
export async function openPage(browser, base, { width = 1280, height = 800, waitReady = true } = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height });
  page.problems = [];
  page.requested = [];
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => { if (message.type() === 'error') page.problems.push(`console: ${message.text()}`); });
  page.on('request', (request) => page.requested.push(request.url()));
  await page.goto(`${base}/`);
  if (waitReady) await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
  return page;
}

// Records every value an element's text (or an attribute) takes, in the page: window.__seen[key].
export async function recordChanges(page, key, selector, attribute = null) {
  await page.evaluate((key, selector, attribute) => {
    window.__seen ??= {};
    const seen = (window.__seen[key] = []);
    const node = document.querySelector(selector);
    const read = () => (attribute ? node.getAttribute(attribute) : node.textContent);
    const push = () => { const value = read(); if (value && seen.at(-1) !== value) seen.push(value); };
    push();
    new MutationObserver(push).observe(node, { attributes: true, childList: true, characterData: true, subtree: true });
  }, key, selector, attribute);
}

export const seen = (page, key) => page.evaluate((key) => window.__seen[key], key);
export const text = (page, id) => page.$eval(byTestId(id), (node) => node.textContent);

export async function screenshot(page, name) {
  const dir = process.env.DARKROOM_SCREENSHOT_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, name) });
}
