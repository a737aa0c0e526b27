// SPDX-License-Identifier: Apache-2.0
// publish.js - the publish page (/APP/STREAM/publish): the browser's camera and microphone
// to this node over WHIP (POST ./whip, docs/webrtc.md).  H.264 (packetization-mode 1) is
// put first, as the node takes H.264 and Opus only.  A ?token= on the page's URL goes along.
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const base = location.pathname.replace(/\/publish\/?$/, '');
  const whipUrl = base + '/whip' + location.search;
  let pc = null, media = null, resource = null;
  $('title').textContent = 'sluice: publish ' + decodeURIComponent(base.slice(1));
  $('watch').href = base + '/' + location.search;

  const say = (text, cls) => { $('state').textContent = text; $('state').className = cls || ''; };

  async function stop(why) {
    $('stop').disabled = true;
    if (resource) fetch(resource, { method: 'DELETE' }).catch(() => {});
    resource = null;
    if (pc) pc.close();
    pc = null;
    if (media) media.getTracks().forEach((t) => t.stop());
    media = null;
    $('start').disabled = false;
    say(why || 'stopped', why ? 'bad' : '');
  }

  async function start() {
    $('start').disabled = true;
    try {
      say('asking for the camera and microphone');
      media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      $('preview').srcObject = media;
      pc = new RTCPeerConnection();
      for (const track of media.getTracks()) {
        const tr = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
        if (track.kind === 'video' && tr.setCodecPreferences) {
          const all = RTCRtpSender.getCapabilities('video').codecs;
          const h264 = all.filter((c) => c.mimeType === 'video/H264' &&
                                         /packetization-mode=1/.test(c.sdpFmtpLine || ''));
          if (!h264.length) throw new Error('this browser cannot send H.264');
          tr.setCodecPreferences(h264.concat(all.filter((c) => !h264.includes(c))));
        }
      }
      pc.onconnectionstatechange = () => {
        const s = pc && pc.connectionState;
        if (s === 'connected') say('publishing', 'ok');
        else if (s === 'failed' || s === 'closed') stop('the connection ' + s);
        else if (s) say(s);
      };
      await pc.setLocalDescription(await pc.createOffer());
      say('connecting');
      const res = await fetch(whipUrl, { method: 'POST', body: pc.localDescription.sdp,
                                         headers: { 'Content-Type': 'application/sdp' } });
      const text = await res.text();
      if (res.status !== 201) throw new Error('the node answered ' + res.status + ': ' + text);
      resource = new URL(res.headers.get('Location'), res.url).href;
      await pc.setRemoteDescription({ type: 'answer', sdp: text });
      $('stop').disabled = false;
    } catch (e) {
      stop(String(e.message || e));
    }
  }

  $('start').onclick = start;
  $('stop').onclick = () => stop();
  window.addEventListener('pagehide', () => { if (resource) stop(); });
})();
