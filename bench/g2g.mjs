// SPDX-License-Identifier: Apache-2.0
// g2g.mjs - glass-to-glass latency: how long after a frame was made the browser shows it.
//
//   node bench/g2g.mjs WATCH_URL SECONDS WARMUP_S
//
// The publisher (bench/webrtc_latency.py) draws its wall-clock time into every frame as a
// strip of black and white blocks: the top row, 32x32 px blocks from the left, is the time in
// milliseconds modulo 2^20, most significant bit first, white = 1; the row below is the same
// bits inverted, so a block the encoder smeared is caught instead of read wrong.  On the watch
// page (WebRTC or LL-HLS, whichever the URL asks for) every frame the <video> presents
// (requestVideoFrameCallback) is drawn into a canvas, the strip decoded and compared with the
// time the frame is expected on screen (performance.timeOrigin + expectedDisplayTime, the
// browser's wall clock, which on one machine is the publisher's).  After WARMUP_S seconds of
// playing, SECONDS of samples are kept.  Prints one JSON object: the samples (ms), frames seen,
// frames whose strip did not read, and the page's own latency figure sampled every 500 ms.
import { collectErrors, launchBrowser } from '../tests/browser/browser.mjs';

const [url, secondsArg, warmupArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
const warmup = Number(warmupArg || 10);

const browser = await launchBrowser();
const report = { url, seconds, warmup, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.goto(url, { waitUntil: 'load', timeout: 15000 });
  await page.waitForFunction(() => {
    const v = document.querySelector('video');
    return v && v.currentTime > 0 && !v.paused && v.videoWidth > 0;
  }, null, { timeout: 30000, polling: 100 });
  Object.assign(report, await page.evaluate(async ([secs, warm]) => {
    const BITS = 20, BLOCK = 32, MOD = 1 << BITS;
    const v = document.querySelector('video');
    const canvas = document.createElement('canvas');
    canvas.width = BITS * BLOCK;
    canvas.height = 2 * BLOCK;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const r = { lagMs: [], pageLatencyMs: [], frames: 0, unread: 0, width: v.videoWidth,
                height: v.videoHeight };
    let keep = false, done = false;
    const onFrame = (now, meta) => {
      if (done) return;
      r.frames++;
      // The strip is in source pixels: scale it when the video is not 640 px wide.
      const sx = v.videoWidth / 640;
      ctx.drawImage(v, 0, 0, BITS * BLOCK * sx, 2 * BLOCK * sx, 0, 0, BITS * BLOCK, 2 * BLOCK);
      const px = ctx.getImageData(0, 0, BITS * BLOCK, 2 * BLOCK).data;
      const lum = (x, y) => { const i = (y * BITS * BLOCK + x) * 4; return px[i] + px[i + 1] + px[i + 2]; };
      let val = 0, ok = true;
      for (let b = 0; b < BITS; b++) {
        const x = b * BLOCK + BLOCK / 2;
        const top = lum(x, BLOCK / 2) > 384, bottom = lum(x, BLOCK + BLOCK / 2) > 384;
        if (top === bottom) ok = false;
        val = val * 2 + (top ? 1 : 0);
      }
      const shown = performance.timeOrigin + (meta.expectedDisplayTime || now);
      if (!ok) r.unread++;
      else if (keep) {
        let lag = (Math.floor(shown) - val) % MOD;
        if (lag < 0) lag += MOD;
        if (lag > MOD / 2) lag -= MOD;   // a stamp from the future: a clock problem, kept visible
        r.lagMs.push(lag);
      }
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    await new Promise((ok) => setTimeout(ok, warm * 1000));
    keep = true;
    const t0 = Date.now();
    while (Date.now() - t0 < secs * 1000) {
      await new Promise((ok) => setTimeout(ok, 500));
      const w = window.sluiceWatch || {};
      if (w.latencyMs != null) r.pageLatencyMs.push(Math.round(w.latencyMs));
    }
    done = true;
    const w = window.sluiceWatch || {};
    r.mode = w.mode;
    r.engine = w.engine;
    r.fatal = w.fatal || 0;
    return r;
  }, [seconds, warmup]));
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
