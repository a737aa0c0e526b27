// SPDX-License-Identifier: Apache-2.0
// watch.mjs - opens a sluice watch page in a real browser (Debian's chromium, headless,
// driven by playwright-core from web/node_modules) and reports what a person would see.
//
//   node tests/browser/watch.mjs URL SECONDS
//
// Waits (up to 30 s) for the video to start, then watches for SECONDS and prints one JSON
// object: how far video.currentTime advanced against the wall clock, stalls, the page's
// own record (window.sluiceWatch: errors, latency behind live, parts loaded), and the
// browser console's errors.  Exits 0 whenever it could report; the caller judges.
import { collectErrors, launchBrowser } from './browser.mjs';

const [url, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 10);

const browser = await launchBrowser();
const report = { url, seconds, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  const started = Date.now();
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 0 && !v.paused;
  }, null, { timeout: 30000, polling: 100 }).catch(() => {});
  report.startMs = Date.now() - started;
  const sample = () => page.evaluate(() => {
    const v = document.querySelector('video');
    const w = window.sluiceWatch || {};
    return {
      t: v.currentTime, paused: v.paused, ready: v.readyState, width: v.videoWidth,
      height: v.videoHeight, latencyMs: w.latencyMs, state: w.state,
      decoded: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : null,
    };
  });
  const first = await sample();
  const t0 = Date.now();
  const latencies = [];
  const samples = [];
  let stalls = 0, last = first.t;
  while (Date.now() - t0 < seconds * 1000) {
    await page.waitForTimeout(500);
    const s = await sample();
    samples.push([Date.now() - t0, s.t]);
    if (s.latencyMs != null) latencies.push(s.latencyMs);
    if (s.t <= last && !s.paused) stalls++;
    last = s.t;
  }
  const end = await sample();
  report.wallS = (Date.now() - t0) / 1000;
  report.first = first;
  report.end = end;
  report.advancedS = end.t - first.t;
  report.stalledSamples = stalls;
  report.latenciesMs = latencies;
  report.samples = samples;   // [ms since watching began, video.currentTime]
  report.watch = await page.evaluate(() => {
    const w = window.sluiceWatch || {};
    return { engine: w.engine, mode: w.mode, errors: w.errors, fatal: w.fatal,
             stopped: w.stopped, reloads: w.reloads,
             partsLoaded: w.partsLoaded, fragsLoaded: w.fragsLoaded, levelParts: w.levelParts,
             stream: w.stream };
  });
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
