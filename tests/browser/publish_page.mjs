// SPDX-License-Identifier: Apache-2.0
// publish_page.mjs - a person on the node's publish page: opens PAGE_URL (/APP/STREAM/publish)
// in Chromium with its fake camera and microphone, presses "Start publishing", and once the
// page says "publishing" prints one JSON line ({state, errors}); then it keeps publishing
// until it is killed (the test kills the browser to see the node notice).
//
//   node tests/browser/publish_page.mjs PAGE_URL
import { collectErrors } from './browser.mjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const [pageUrl] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
         '--mute-audio'],
});
const report = { pageUrl, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 15000 });
  await page.click('#start');
  await page.waitForFunction(() => /publishing|failed|closed|answered|cannot/.test(
    document.getElementById('state').textContent), null, { timeout: 20000 });
  report.state = await page.textContent('#state');
} catch (e) {
  report.failure = String(e);
}
console.log(JSON.stringify(report));
if (report.state !== 'publishing') {
  await browser.close();
  process.exit(0);
}
await new Promise(() => {}); // publishes until killed
