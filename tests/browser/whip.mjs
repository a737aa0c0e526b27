// SPDX-License-Identifier: Apache-2.0
// whip.mjs - publishes Chromium's fake camera and microphone over WHIP (the browser's own
// getUserMedia and RTCPeerConnection) and reports what getStats says.
//
//   node tests/browser/whip.mjs PAGE_URL WHIP_URL SECONDS
//
// Opens PAGE_URL (a page of the node: getUserMedia needs a secure context, which
// http://127.0.0.1 is), offers sendonly H.264 video and Opus audio, POSTs the offer to
// WHIP_URL (following a 307 from the stream manager, as fetch does), and publishes for
// SECONDS, sampling getStats.  Prints one JSON object (status, Location, answer, frames
// encoded, packets sent, keyframes asked for, states), then DELETEs the session.
import { collectErrors } from './browser.mjs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const [pageUrl, whipUrl, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 10);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
         '--mute-audio'],
});
const report = { whipUrl, seconds, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 15000 });
  Object.assign(report, await page.evaluate(async ([url, secs]) => {
    const r = { samples: [], states: [] };
    const media = await navigator.mediaDevices.getUserMedia({
      video: { width: 320, height: 240, frameRate: 25 }, audio: true });
    const pc = new RTCPeerConnection();
    window.whipPc = pc;
    pc.onconnectionstatechange = () => r.states.push(pc.connectionState);
    for (const track of media.getTracks()) {
      const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
      if (track.kind === 'video') {
        // H.264 first: the node takes H.264 (packetization-mode=1) and Opus only.
        const codecs = RTCRtpSender.getCapabilities('video').codecs;
        const h264 = codecs.filter((c) => c.mimeType === 'video/H264' &&
                                          /packetization-mode=1/.test(c.sdpFmtpLine || ''));
        tr.setCodecPreferences(h264.concat(codecs.filter((c) => !h264.includes(c))));
      }
    }
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
                                   body: pc.localDescription.sdp });
    r.status = res.status;
    r.redirected = res.redirected;
    r.finalUrl = res.url;
    r.location = res.headers.get('Location');
    const answer = await res.text();
    if (res.status !== 201) { r.error = answer; return r; }
    r.answer = answer;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    window.whipResource = new URL(r.location, res.url).href;
    const stats = async () => {
      let frames = 0, vpkts = 0, apkts = 0, plis = 0, nacks = 0, keys = 0, codec = '';
      const all = await pc.getStats();
      all.forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') {
          frames = s.framesEncoded || 0; vpkts = s.packetsSent || 0; plis = s.pliCount || 0;
          nacks = s.nackCount || 0; keys = s.keyFramesEncoded || 0;
          const c = all.get(s.codecId);
          codec = c ? c.mimeType : '';
        }
        if (s.type === 'outbound-rtp' && s.kind === 'audio') apkts = s.packetsSent || 0;
      });
      return { frames, vpkts, apkts, plis, nacks, keys, codec };
    };
    const t0 = Date.now();
    let s = await stats();
    while (s.vpkts === 0 && Date.now() - t0 < 20000) {
      await new Promise((ok) => setTimeout(ok, 200));
      s = await stats();
    }
    r.firstPacketMs = Date.now() - t0;
    const t1 = Date.now();
    while (Date.now() - t1 < secs * 1000) {
      await new Promise((ok) => setTimeout(ok, 500));
      s = await stats();
      r.samples.push(s);
    }
    r.end = s;
    r.connectionState = pc.connectionState;
    return r;
  }, [whipUrl, seconds]));
  if (report.status === 201) {
    report.deleteStatus = await page.evaluate(async () => {
      const res = await fetch(window.whipResource, { method: 'DELETE' });
      return res.status;
    });
  }
} catch (e) {
  report.failure = String(e);
} finally {
  console.log(JSON.stringify(report));
  await browser.close();
}
