// SPDX-License-Identifier: Apache-2.0
// console.mjs - drives the manager's console in a real browser (Debian's chromium, headless,
// through playwright-core from web/node_modules) as an operator would, in steps the Python
// test paces: at each `WAIT name` line it prints, the driver waits (up to 60 s) for the file
// STEP_DIR/name to appear (the test has done its part: published, started viewers).
//
//   node tests/browser/console.mjs MANAGER_URL TOKEN OUT_DIR STEP_DIR
//
// Prints `WAIT ...` lines, then one JSON object with what it saw; screenshots of each page
// go to OUT_DIR.  Exits 0 whenever it could report; the caller judges.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectErrors, launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const [base, token, outDir, stepDir] = process.argv.slice(2);

async function step(name) {
  console.log('WAIT ' + name);
  for (let i = 0; i < 600; i++) {
    if (fs.existsSync(path.join(stepDir, name))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the test did not go on after ' + name);
}

const report = { console: [], pageErrors: [], steps: [], httpErrors: [] };
const t0 = Date.now();
const mark = (s) => report.steps.push([s, Date.now() - t0]);
const browser = await launchBrowser();
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  collectErrors(page, report);
  // Every answer of 400 or more, with its URL: the test tells the refusals it provoked from
  // anything else.
  page.on('response', (r) => { if (r.status() >= 400) report.httpErrors.push([r.status(), r.request().method(), r.url()]); });
  const shot = (name) => page.screenshot({ path: path.join(outDir, name + '.png'), fullPage: true });
  const confirm = async () => {
    await page.waitForSelector('#confirm[open]', { timeout: 5000 });
    report.confirmText = (report.confirmText || []).concat(await page.textContent('#confirm-text'));
    await page.click('#confirm-ok');
  };

  // Logged out: the login form, and a wrong token is refused with the API's words.
  const resp = await page.goto(base + '/', { waitUntil: 'load', timeout: 15000 });
  report.csp = resp.headers()['content-security-policy'];
  await page.waitForSelector('#login-view:not([hidden])', { timeout: 5000 });
  await page.fill('#login-token', 'not-the-token');
  await page.click('#login-form button');
  await page.waitForSelector('#flash:not([hidden])', { timeout: 5000 });
  report.wrongLogin = await page.textContent('#flash');
  await shot('1-login');
  await page.fill('#login-token', token);
  await page.click('#login-form button');
  await page.waitForSelector('#overview-view:not([hidden])', { timeout: 5000 });
  report.cookies = (await ctx.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly,
    sameSite: c.sameSite, expires: c.expires }));
  report.cookieVisibleToScript = await page.evaluate(() => document.cookie);
  mark('logged in');

  // Create a group and add its origin through the page, each confirmed.
  await page.click('#create-group');
  await page.waitForSelector('#group-dialog[open]');
  await page.fill('#g-name', 'web');
  await page.click('#g-ok');
  await confirm();
  await page.waitForSelector('#groups tr[data-group="web"]', { timeout: 10000 });
  await page.click('#groups tr[data-group="web"] button.add-origin');
  await confirm();
  await page.waitForFunction(() => {
    const alive = (role) => [...document.querySelectorAll('#nodes tbody tr')].filter((r) =>
      r.querySelector('.role').textContent === role && r.querySelector('.state').textContent === 'alive').length;
    return alive('origin') >= 1 && alive('edge') >= 1;
  }, null, { timeout: 40000, polling: 250 });
  report.groupRow = await page.textContent('#groups tr[data-group="web"]');
  mark('group up');
  await shot('2-group-up');
  await step('group-up');

  // The test publishes: the stream shows up with its origin.
  await page.waitForFunction(() => {
    const r = document.querySelector('#streams tr[data-stream="live/demo"] .origin');
    return r && !r.textContent.startsWith('(');
  }, null, { timeout: 20000, polling: 250 });
  report.origin = await page.textContent('#streams tr[data-stream="live/demo"] .origin');
  mark('live');
  await step('live');

  // The test starts viewers: their count rises on the page.
  await page.waitForFunction(() => {
    const v = document.querySelector('#streams tr[data-stream="live/demo"] .viewers');
    return v && Number(v.textContent) >= 2;
  }, null, { timeout: 20000, polling: 250 });
  // Nodes report viewers by protocol a heartbeat later than the total: wait for both.
  await page.waitForFunction(() => document.querySelector('#streams tr[data-stream="live/demo"] .protocols')
    .textContent.includes('rtmp 2'), null, { timeout: 10000, polling: 250 });
  report.viewers = Number(await page.textContent('#streams tr[data-stream="live/demo"] .viewers'));
  report.protocols = await page.textContent('#streams tr[data-stream="live/demo"] .protocols');
  report.viewersCard = Number(await page.textContent('#card-viewers b'));
  mark('viewers');
  // Charts drawn, with the group's and the stream's lines.
  await page.waitForFunction(() => document.querySelectorAll('.charts canvas').length >= 3 &&
    window.sluiceConsole.history.series.some((s) => s.kind === 'stream'),
    null, { timeout: 12000, polling: 250 });
  report.charts = await page.evaluate(() => {
    const h = window.sluiceConsole.history;
    return { points: h.t.length, series: h.series.map((s) => s.kind + ':' + s.name) };
  });
  await shot('3-overview-viewers');

  // A stream's page: where it is, which nodes carry it, and the node's watch page in a frame.
  await page.click('#streams tr[data-stream="live/demo"] a');
  await page.waitForSelector('#stream-view:not([hidden])');
  await page.waitForFunction(() => document.querySelector('#player').src.includes('/live/demo/'),
    null, { timeout: 10000 });
  report.playerSrc = await page.getAttribute('#player', 'src');
  report.streamWhere = await page.textContent('#stream-where');
  // The iframe's src is set before its navigation starts: wait for the frame itself.
  let frame = null;
  for (let i = 0; i < 100 && !frame; i++) {
    frame = page.frames().find((f) => f.url().includes('/live/demo/'));
    if (!frame) await page.waitForTimeout(100);
  }
  report.playerPlayed = false;
  if (frame) {
    await frame.waitForFunction(() => {
      const v = document.querySelector('video');
      return v && v.currentTime > 0.5;
    }, null, { timeout: 20000, polling: 200 }).then(() => { report.playerPlayed = true; })
      .catch(() => { report.playerPlayed = false; });
  }
  await shot('4-stream');

  // The event log, filtered by kind.
  await page.goto(base + '/#/events');
  await page.waitForSelector('#events-view:not([hidden])');
  await page.waitForSelector('#events tbody tr', { timeout: 5000 });
  await page.fill('#f-kind', 'node_launched');
  report.eventKinds = await page.$$eval('#events tbody tr', (rs) => rs.map((r) => r.dataset.kind));
  await shot('5-events');
  await page.fill('#f-kind', '');

  // A call that changes state without the CSRF token is refused, cookie or not.
  report.csrfless = await page.evaluate(async () => {
    const r = await fetch('/api/v1/groups/web', { method: 'DELETE' });
    return [r.status, (await r.json()).error];
  });

  // Drain the edge from the page: its state changes.
  await page.goto(base + '/#/');
  await page.waitForSelector('#nodes tr button.drain');
  const edgeId = await page.$$eval('#nodes tbody tr', (rs) =>
    rs.filter((r) => r.querySelector('.role').textContent === 'edge' &&
      r.querySelector('.state').textContent === 'alive').map((r) => r.dataset.node)[0]);
  report.drained = edgeId;
  await page.click('#nodes tr[data-node="' + edgeId + '"] button.drain');
  await confirm();
  await page.waitForFunction((id) => {
    const r = document.querySelector('#nodes tr[data-node="' + id + '"] .state');
    return !r || r.textContent !== 'alive';
  }, edgeId, { timeout: 10000, polling: 200 });
  report.drainedState = await page.evaluate((id) => {
    const r = document.querySelector('#nodes tr[data-node="' + id + '"] .state');
    return r ? r.textContent : 'removed';
  }, edgeId);
  await shot('6-drained');

  // Set the edges' thresholds from the page: the group's row shows the new values.
  await page.click('#groups tr[data-group="web"] button.thresholds');
  await page.waitForSelector('#th-dialog[open]');
  await page.selectOption('#th-role', 'edge');
  await page.fill('#th-out', '75');
  await page.fill('#th-in', '25');
  await page.click('#th-ok');
  await confirm();
  await page.waitForFunction(() => document.querySelector('#groups tr[data-group="web"]')
    .textContent.includes('edge 75/25'), null, { timeout: 5000 });
  // A refusal is shown as the API words it (scaleIn must be below scaleOut).
  await page.click('#groups tr[data-group="web"] button.thresholds');
  await page.waitForSelector('#th-dialog[open]');
  await page.fill('#th-out', '20');
  await page.fill('#th-in', '30');
  await page.click('#th-ok');
  await confirm();
  await page.waitForFunction(() => document.querySelector('#flash').textContent.includes('scaleIn'),
    null, { timeout: 5000 });
  report.thresholdError = await page.textContent('#flash');

  // The node's own status page (the origin's), from the link in the nodes table.
  const originUrl = await page.$$eval('#nodes tbody tr', (rs) => rs.filter((r) =>
    r.querySelector('.role').textContent === 'origin')[0].querySelector('a').href);
  const sp = await ctx.newPage();
  sp.on('pageerror', (e) => report.pageErrors.push('status page: ' + String(e)));
  sp.on('console', (m) => { if (m.type() === 'error') report.console.push('status page: ' + m.text()); });
  await sp.goto(originUrl, { waitUntil: 'load', timeout: 10000 });
  await sp.waitForSelector('#streams tr[data-stream="live/demo"]', { timeout: 10000 });
  report.status = await sp.evaluate(() => ({
    who: document.querySelector('#who').textContent,
    row: document.querySelector('#streams tr[data-stream="live/demo"]').textContent,
    watch: document.querySelector('#streams tr[data-stream="live/demo"] a').getAttribute('href'),
  }));
  await sp.screenshot({ path: path.join(outDir, '7-node-status.png'), fullPage: true });
  await sp.close();

  // Delete the group from the page: it goes, with its nodes.
  await page.click('#groups tr[data-group="web"] button.delete-group');
  await confirm();
  await page.waitForFunction(() => !document.querySelector('#groups tr[data-group="web"]') &&
    !document.querySelector('#nodes tbody tr'), null, { timeout: 10000, polling: 200 });
  report.deleted = true;

  // Log out: the API then refuses the same browser.
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])', { timeout: 5000 });
  report.afterLogout = await page.evaluate(async () => (await fetch('/api/v1/groups')).status);

  // Another browser with no session: the login form, and the API refuses it.
  const other = await browser.newContext();
  const op = await other.newPage();
  await op.goto(base + '/', { waitUntil: 'load' });
  await op.waitForSelector('#login-view:not([hidden])', { timeout: 5000 });
  report.noSession = await op.evaluate(async () => [(await fetch('/api/v1/groups')).status,
    (await fetch('/console/history')).status]);
  await other.close();
  mark('done');
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
process.exit(0);
