// Drives the log explorer in a real browser: Debian's chromium (the system browser, never a downloaded one) through
// playwright-core, with axe-core for accessibility. The xunit tests in TransparencyLog.Interop.Tests/Explorer
// prepare the entries and run one case per invocation:
//   node explorer.mjs CASE
// CASE: search | entry | escaping | tampered | chart | alerts | axe | screenshots
// Environment: EXPLORER_URL, and per case SIGNED_IDENTITY, SIGNED_ISSUER, XSS_IDENTITY, TAMPERED_PATH, ALERT_IDENTITY,
// ALERT_ENTRY_PATH, SCREENSHOT_DIR.
// Prints "ok CASE" and exits 0 when every check held; prints the failed check and exits 1 otherwise.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

const base = env('EXPLORER_URL').replace(/\/$/, '').replace(/\/explorer$/, ''); // pages are addressed from the service root
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function withBrowser(run) {
  // --no-sandbox: CI and this machine run as root, where chromium refuses its sandbox.
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
  try {
    return await run(browser);
  } finally {
    await browser.close();
  }
}

/** A page that fails the case on any script error, dialog or console error. */
async function strictPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => { problems.push(`dialog opened: ${d.message()}`); await d.dismiss(); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.problems = problems;
  return page;
}

async function open(page, url) {
  const response = await page.goto(base + url, { waitUntil: 'load' });
  assert.ok(response, `no response for ${url}`);
  return response;
}

const cases = {
  /** Search by identity with JavaScript off: the form submits, the results list the entry, its link opens it. */
  async search(browser) {
    const identity = env('SIGNED_IDENTITY');
    const page = await strictPage(browser, { javaScriptEnabled: false });
    await open(page, '/explorer');
    await page.fill('#q', identity);
    await Promise.all([page.waitForURL(/\/explorer\/search\?/), page.click('form.search button[type=submit]')]);
    const rows = page.locator('table.results tbody tr');
    assert.ok(await rows.count() >= 1, 'no result rows for the signed identity');
    assert.equal((await rows.first().locator('td.identity').first().textContent()).trim(), identity);
    assert.equal((await rows.first().locator('td.identity').nth(1).textContent()).trim(), env('SIGNED_ISSUER'));
    const permalink = await page.locator('p.permalink a').getAttribute('href');
    assert.match(permalink, /^\/explorer\/search\?q=/);
    await Promise.all([page.waitForURL(/\/explorer\/entries\/rekor-v1\/\d+$/), rows.first().locator('a').first().click()]);
    assert.match(await page.locator('h1').textContent(), /^Entry \d+ of the Rekor v1 log$/);
    assert.deepEqual(page.problems, []);
  },

  /** The entry page shows the SAN and issuer from the certificate and the server's verified inclusion proof. */
  async entry(browser) {
    const page = await strictPage(browser);
    await open(page, env('ENTRY_PATH'));
    const san = await page.locator('dd.san').allTextContents();
    assert.ok(san.includes(env('SIGNED_IDENTITY')), `SAN ${env('SIGNED_IDENTITY')} not among ${JSON.stringify(san)}`);
    assert.equal((await page.locator('dd.issuer').textContent()).trim(), env('SIGNED_ISSUER'));
    const verdict = page.locator('#verdict');
    assert.equal(await verdict.getAttribute('class'), 'verdict ok');
    assert.match(await verdict.textContent(), /^Verified: the entry as stored is included/);
    assert.equal(await page.locator('#set-verdict').getAttribute('class'), 'verdict ok');
    assert.deepEqual(page.problems, []);
  },

  /** An identity holding markup and quotes is shown as text on the results and entry pages; nothing runs. */
  async escaping(browser) {
    const identity = env('XSS_IDENTITY');
    const page = await strictPage(browser);
    await open(page, `/explorer/search?q=${encodeURIComponent(identity)}&type=identity`);
    const cell = page.locator('table.results tbody tr td.identity').first();
    assert.equal(await cell.textContent(), identity);
    assert.equal(await page.locator('table.results script, table.results img').count(), 0, 'markup from the entry became elements');
    await Promise.all([page.waitForURL(/\/explorer\/entries\//), page.locator('table.results tbody tr a').first().click()]);
    assert.ok((await page.locator('dd.san').allTextContents()).includes(identity), 'the SAN is not shown verbatim');
    assert.equal(await page.locator('main script, main img').count(), 0, 'markup from the entry became elements');
    assert.equal(await page.evaluate(() => window.__explorerXss), undefined, 'injected script ran');
    assert.deepEqual(page.problems, []);
  },

  /** An entry changed in storage behind the log's back shows a failed proof, never a green one. */
  async tampered(browser) {
    const page = await strictPage(browser);
    await open(page, env('TAMPERED_PATH'));
    const verdict = page.locator('#verdict');
    assert.equal(await verdict.getAttribute('class'), 'verdict bad');
    assert.match(await verdict.textContent(), /^Failed/);
    assert.match(await verdict.textContent(), /changed after it was appended/);
    assert.equal(await page.locator('.verdict.ok').count(), 0, 'a green verdict is shown for a tampered entry');
    assert.equal(await page.locator('#set-verdict').getAttribute('class'), 'verdict bad');
  },

  /** The log page's growth chart renders with at least one bar for the entries made in the last hours. */
  async chart(browser) {
    const page = await strictPage(browser);
    await open(page, '/explorer/logs/rekor-v1');
    const chart = page.locator('svg#growth-chart');
    const box = await chart.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 80, `chart box ${JSON.stringify(box)}`);
    const heights = await chart.locator('rect.bar').evaluateAll((bars) => bars.map((b) => b.getBBox().height));
    assert.equal(heights.length, 48);
    assert.ok(heights.some((h) => h > 0), 'no bar has a height');
    const fill = await chart.locator('rect.bar').first().evaluate((b) => getComputedStyle(b).fill);
    assert.notEqual(fill, 'rgb(0, 0, 0)', 'the stylesheet did not reach the chart');
    assert.deepEqual(page.problems, []);
  },

  /**
   * The health page lists the alert a monitor recorded in the log's database: the matched identity (markup and quotes
   * included) as text, nothing from it runs, and the alert links to the entry it is about.
   */
  async alerts(browser) {
    const identity = env('ALERT_IDENTITY');
    const page = await strictPage(browser);
    await open(page, '/explorer/health');
    const section = page.locator('section[aria-labelledby=alerts-heading]');
    assert.equal((await section.locator('h2').textContent()).trim(), 'Monitor alerts');
    const row = section.locator('table.monitor-alerts tbody tr').filter({ hasText: identity });
    assert.equal(await row.count(), 1, 'the alert for the monitored identity is not listed once');
    assert.equal((await row.locator('td.type').textContent()).trim(), 'identity_match');
    assert.equal((await row.locator('td.severity').textContent()).trim(), 'info');
    assert.ok((await row.locator('td.summary').textContent()).includes(`matched ${identity}`), 'the summary does not show the identity verbatim');
    assert.equal(await section.locator('script, img').count(), 0, 'markup from the alert became elements');
    assert.equal(await page.evaluate(() => window.__alertXss), undefined, 'injected script ran');
    const link = row.locator('td.entry a');
    assert.equal(await link.getAttribute('href'), env('ALERT_ENTRY_PATH'));
    await Promise.all([page.waitForURL((u) => u.pathname === env('ALERT_ENTRY_PATH')), link.click()]);
    assert.ok((await page.locator('dd.san').allTextContents()).includes(identity), 'the entry page does not show the identity');
    assert.deepEqual(page.problems, []);
  },

  /** axe-core on every page, light and dark: no serious or critical violations. */
  async axe(browser) {
    const pages = JSON.parse(env('AXE_PAGES'));
    const failures = [];
    for (const colorScheme of ['light', 'dark']) {
      const page = await strictPage(browser, { colorScheme });
      for (const url of pages) {
        await open(page, url);
        // Evaluated through the DevTools protocol, so the page's CSP (no inline script) still holds for the page.
        await page.evaluate(axeSource);
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        for (const v of result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')) {
          failures.push(`${colorScheme} ${url}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
        }
      }
      // Some pages are error pages on purpose (a bad query, an unknown entry): their status is not a problem.
      assert.deepEqual(page.problems.filter((p) => !/Failed to load resource: the server responded with a status of 40[04]/.test(p)), []);
    }
    assert.deepEqual(failures, []);
  },

  /** Screenshots for docs/explorer.md: each page at desktop width, one at phone width and one dark. */
  async screenshots(browser) {
    const dir = env('SCREENSHOT_DIR');
    fs.mkdirSync(dir, { recursive: true });
    const shots = JSON.parse(env('SCREENSHOT_PAGES'));
    for (const { name, url, width = 1200, colorScheme = 'light' } of shots) {
      const page = await strictPage(browser, { viewport: { width, height: 800 }, colorScheme });
      await open(page, url);
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
      await page.context().close();
    }
  },
};

const name = process.argv[2];
if (!cases[name]) {
  console.error(`usage: node explorer.mjs ${Object.keys(cases).join('|')}`);
  process.exit(2);
}

try {
  await withBrowser(cases[name]);
  console.log(`ok ${name}`);
} catch (e) {
  console.error(`not ok ${name}: ${e.stack ?? e}`);
  process.exit(1);
}
