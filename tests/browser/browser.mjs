// SPDX-License-Identifier: Apache-2.0
// browser.mjs - what every browser driver here starts from: Debian's chromium (or $CHROMIUM),
// headless through playwright-core from web/node_modules, allowed to autoplay, muted; and a
// page's console errors and uncaught exceptions collected into the driver's report.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

// EXTRA: more command-line switches (a bench's, say).
export function launchBrowser(extra = []) {
  const args = ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio',
                ...extra];
  // HTTPS tests: a test CA the browser has no store for; the page is a secure context still.
  if (process.env.SLUICE_BROWSER_IGNORE_CERTS) args.push('--ignore-certificate-errors');
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
  });
}

// Fills report.console and report.pageErrors (both arrays) from the page.
export function collectErrors(page, report) {
  page.on('console', (m) => { if (m.type() === 'error') report.console.push(m.text()); });
  page.on('pageerror', (e) => report.pageErrors.push(String(e)));
}
