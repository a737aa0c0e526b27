// SPDX-License-Identifier: Apache-2.0
// dash.mjs - plays a DASH manifest with dash.js (from web/node_modules, test-only) in a real
// browser (Debian's chromium, headless, driven by playwright-core) and reports what a
// person would see.
//
//   node tests/browser/dash.mjs MPD_URL SECONDS
//
// The page is blank (about:blank) with one <video>; dash.js fetches the manifest and the
// segments across origins (the node allows CORS).  Waits (up to 30 s) for playback, watches
// for SECONDS and prints one JSON object: how far video.currentTime advanced, stalls, the
// picture size, dash.js errors and the console's errors.  Exits 0 whenever it could report.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectErrors, launchBrowser } from './browser.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const dashjs = path.join(here, '../../web/node_modules/dashjs/dist/modern/umd/dash.all.min.js');

const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 10);

const browser = await launchBrowser();
const report = { url, seconds, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.setContent('<video muted autoplay playsinline></video>');
  await page.addScriptTag({ path: dashjs });
  await page.evaluate((mpd) => {
    window.dashErrors = [];
    const p = dashjs.MediaPlayer().create();
    p.on(dashjs.MediaPlayer.events.ERROR, (e) => {
      window.dashErrors.push(JSON.stringify(e.error || e).slice(0, 300));
    });
    p.initialize(document.querySelector('video'), mpd, true);
    window.player = p;
  }, url);
  const started = Date.now();
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 0 && !v.paused;
  }, null, { timeout: 30000, polling: 100 }).catch(() => {});
  report.startMs = Date.now() - started;
  const sample = () => page.evaluate(() => {
    const v = document.querySelector('video');
    return { t: v.currentTime, paused: v.paused, width: v.videoWidth, height: v.videoHeight };
  });
  const first = await sample();
  const t0 = Date.now();
  let stalls = 0, last = first.t;
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(500);
    const s = await sample();
    if (s.t <= last && !s.paused) stalls++;
    last = s.t;
  }
  const end = await sample();
  report.wallS = (Date.now() - t0) / 1000;
  report.first = first;
  report.end = end;
  report.advancedS = end.t - first.t;
  report.stalledSamples = stalls;
  report.dashErrors = await page.evaluate(() => window.dashErrors);
  report.liveDelayS = await page.evaluate(() => {
    try { return window.player.getCurrentLiveLatency(); } catch (e) { return null; }
  });
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
