// SPDX-License-Identifier: Apache-2.0
// g2g.mjs - glass-to-glass latency: how long after a frame was made the browser shows it.
//
//   node bench/g2g.mjs WATCH_URL SECONDS WARMUP_S [PUBLISH_PAGE_URL]
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
//
// With PUBLISH_PAGE_URL (a page of the node, e.g. /live/STREAM/publish: same origin as its
// ./whip) the publisher is this same browser instead of ffmpeg: a second page draws the
// same strip into a 640x360 canvas on every animation frame, stamped with Date.now() as it
// draws (the frame is made then), and publishes canvas.captureStream(30) with a 440 Hz tone
// over WHIP (H.264 first, as web/publish.js does).  Both pages share the browser's one
// clock.  The report then has a `publisher` object (WHIP status, frames drawn and encoded).
import { collectErrors, launchBrowser } from '../tests/browser/browser.mjs';

const [url, secondsArg, warmupArg, publishUrl] = process.argv.slice(2);
const seconds = Number(secondsArg || 20);
const warmup = Number(warmupArg || 10);

// Two pages drawing and playing at once: neither may be throttled as a background tab.
const browser = await launchBrowser(publishUrl ? [
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows'] : []);
const report = { url, seconds, warmup, console: [], pageErrors: [] };
let pubPage = null;
try {
  if (publishUrl) {
    pubPage = await browser.newPage();
    collectErrors(pubPage, report);
    await pubPage.goto(publishUrl, { waitUntil: 'load', timeout: 15000 });
    report.publisher = await pubPage.evaluate(publishCanvas);
    if (report.publisher.status !== 201) throw new Error('WHIP: ' + JSON.stringify(report.publisher));
    // The node has the stream once its first keyframe is in: wait for the playlist.
    const hls = new URL('index.m3u8', url).href;
    for (let i = 0; i < 100; i++) {
      const r = await fetch(hls).catch(() => null);
      if (r && r.status === 200) break;
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }
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
  if (pubPage) {
    Object.assign(report.publisher, await pubPage.evaluate(async () => {
      const p = window.g2gPublisher;
      let encoded = 0, sent = 0, width = 0, limited = '';
      (await p.pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          encoded = s.framesEncoded || 0; sent = s.packetsSent || 0; width = s.frameWidth || 0;
          limited = s.qualityLimitationReason || '';
        }
      });
      return { drawn: p.drawn, framesEncoded: encoded, videoPackets: sent, sentWidth: width,
               qualityLimitation: limited, state: p.pc.connectionState };
    }));
  }
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));

// Runs in the publisher page: the strip on a canvas each animation frame, sent over WHIP.
async function publishCanvas() {
  const BITS = 20, BLOCK = 32, MOD = 1 << BITS;
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  document.body.appendChild(canvas);   // a canvas in the page, painted as a camera's would be
  const ctx = canvas.getContext('2d');
  const p = { drawn: 0 };
  window.g2gPublisher = p;
  const draw = () => {
    const ms = Date.now() % MOD;
    ctx.fillStyle = '#246';            // something under the strip, moving, for the encoder
    ctx.fillRect(0, 0, 640, 360);
    ctx.fillStyle = '#9c6';
    ctx.fillRect((p.drawn * 4) % 640, 100, 80, 200);
    for (let k = 0; k < BITS; k++) {
      const bit = Math.floor(ms / (1 << k)) % 2;
      const x = (BITS - 1 - k) * BLOCK;
      ctx.fillStyle = bit ? '#fff' : '#000';
      ctx.fillRect(x, 0, BLOCK, BLOCK);
      ctx.fillStyle = bit ? '#000' : '#fff';
      ctx.fillRect(x, BLOCK, BLOCK, BLOCK);
    }
    p.drawn++;
    requestAnimationFrame(draw);
  };
  draw();
  const media = canvas.captureStream(30);
  const ac = new AudioContext({ sampleRate: 48000 });
  const osc = ac.createOscillator();
  osc.frequency.value = 440;
  const dest = ac.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  media.addTrack(dest.stream.getAudioTracks()[0]);
  const pc = new RTCPeerConnection();
  p.pc = pc;
  for (const track of media.getTracks()) {
    const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
    if (track.kind === 'video') {
      const all = RTCRtpSender.getCapabilities('video').codecs;
      const h264 = all.filter((c) => c.mimeType === 'video/H264' &&
                                     /packetization-mode=1/.test(c.sdpFmtpLine || ''));
      tr.setCodecPreferences(h264.concat(all.filter((c) => !h264.includes(c))));
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  const whip = location.pathname.replace(/\/publish\/?$/, '') + '/whip';
  const res = await fetch(whip, { method: 'POST', body: pc.localDescription.sdp,
                                  headers: { 'Content-Type': 'application/sdp' } });
  const answer = await res.text();
  if (res.status !== 201) return { status: res.status, error: answer.slice(0, 300) };
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { status: res.status };
}
