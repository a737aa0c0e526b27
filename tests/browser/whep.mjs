// SPDX-License-Identifier: Apache-2.0
// whep.mjs - plays a stream over WHEP in a real browser (Debian's chromium, headless, driven by
// playwright-core from web/node_modules) with the browser's own RTCPeerConnection and reports
// what getStats says.
//
//   node tests/browser/whep.mjs PAGE_URL WHEP_URL SECONDS [audio]
//
// Opens PAGE_URL (any page of the node, so the POST is same-origin), offers recvonly video
// (and audio with "audio"), POSTs the offer to WHEP_URL, and samples getStats every 500 ms
// for SECONDS once video frames decode (waiting up to 20 s for the first).  Prints one JSON
// object: framesDecoded samples, audio packets, connection states, errors; then DELETEs the
// session.  Exits 0 whenever it could report; the caller judges.
import { collectErrors, launchBrowser } from './browser.mjs';

const [pageUrl, whepUrl, secondsArg, audioArg] = process.argv.slice(2);
const seconds = Number(secondsArg || 10);

const browser = await launchBrowser();
const report = { whepUrl, seconds, console: [], pageErrors: [] };
try {
  const page = await browser.newPage();
  collectErrors(page, report);
  await page.goto(pageUrl, { waitUntil: 'load', timeout: 15000 });
  report.secureContext = await page.evaluate(() => window.isSecureContext);
  Object.assign(report, await page.evaluate(async ([url, secs, audio]) => {
    const r = { samples: [], audioPackets: [], states: [] };
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    if (audio) pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.onconnectionstatechange = () => r.states.push(pc.connectionState);
    await pc.setLocalDescription(await pc.createOffer());
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
                                   body: pc.localDescription.sdp });
    r.status = res.status;
    r.location = res.headers.get('Location');
    const answer = await res.text();
    if (res.status !== 201) { r.error = answer; return r; }
    r.answer = answer;
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    const stats = async () => {
      let frames = 0, apkts = 0, nacks = 0, plis = 0, w = 0, h = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          frames = s.framesDecoded || 0; nacks = s.nackCount || 0; plis = s.pliCount || 0;
          w = s.frameWidth || 0; h = s.frameHeight || 0;
        }
        if (s.type === 'inbound-rtp' && s.kind === 'audio') apkts = s.packetsReceived || 0;
      });
      return { frames, apkts, nacks, plis, w, h };
    };
    const t0 = Date.now();
    let s = await stats();
    while (s.frames === 0 && Date.now() - t0 < 20000) {
      await new Promise((ok) => setTimeout(ok, 200));
      s = await stats();
    }
    r.firstFrameMs = Date.now() - t0;
    const t1 = Date.now();
    while (Date.now() - t1 < secs * 1000) {
      await new Promise((ok) => setTimeout(ok, 500));
      s = await stats();
      r.samples.push([Date.now() - t1, s.frames]);
      r.audioPackets.push(s.apkts);
    }
    r.end = s;
    r.connectionState = pc.connectionState;
    if (r.location) r.deleteStatus = (await fetch(r.location, { method: 'DELETE' })).status;
    pc.close();
    return r;
  }, [whepUrl, seconds, audioArg === 'audio']));
} catch (e) {
  report.failure = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
