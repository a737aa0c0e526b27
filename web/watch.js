// SPDX-License-Identifier: Apache-2.0
/*
 * watch.js - the watch page's script: plays /APP/STREAM/index.m3u8 with
 * hls.js (or the browser's own HLS, as in Safari) and shows how far behind
 * live playback is: now minus the EXT-X-PROGRAM-DATE-TIME of the frame on
 * screen, which the node stamps when the frame arrives.
 *
 * Where the browser has WebRTC it first plays over WHEP (POST /APP/STREAM/whep),
 * sub-second behind live; the latency shown is then now minus the NTP time of
 * the frame on screen, which the browser knows from the node's RTCP sender
 * reports.  If WHEP fails (refused, no frame within WEBRTC_WAIT_MS, the
 * connection drops) the page falls back to LL-HLS.
 *
 * Query: ?webrtc=0 skips WebRTC; ?ll=0 plays as plain HLS (LL-HLS parts
 * ignored); ?token=T is passed to WHEP and the playlist (and by the node into
 * every URI it lists).
 *
 * window.sluiceWatch holds what the page knows, for people and tests.
 */
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var lowLatency = params.get('ll') !== '0';
  var wantWebrtc = params.get('webrtc') !== '0' && !!window.RTCPeerConnection;
  var WEBRTC_WAIT_MS = 8000;
  var WEBRTC_RETRIES = 5;         /* WHEP asked again, a second apart, after a playing session ended */
  var NTP_UNIX_OFFSET_MS = 2208988800000;
  var token = params.get('token');
  var src = 'index.m3u8' + (token ? '?token=' + encodeURIComponent(token) : '');
  var video = document.getElementById('video');
  var elState = document.getElementById('state');
  var elLatency = document.getElementById('latency');
  var parts = location.pathname.split('/').filter(Boolean);
  var w = window.sluiceWatch = {
    stream: parts.join('/'),
    mode: lowLatency ? 'll-hls' : 'hls',
    engine: null,
    state: 'loading',
    errors: [],           /* every error hls.js or the video element reported */
    fatal: 0,             /* of them, those hls.js called fatal (the page recovers from most) */
    stopped: 0,           /* errors that stopped playback for good */
    reloads: 0,           /* playlist reloads after a fatal playlist error */
    latencyMs: null,      /* now - program date of the frame on screen */
    partsLoaded: 0,       /* LL-HLS parts fetched */
    fragsLoaded: 0,
    levelParts: false     /* the playlist carries parts */
  };

  document.title = w.stream + ' - sluice';
  document.getElementById('title').textContent = w.stream;
  var other = new URLSearchParams(location.search);
  other.set('ll', lowLatency ? '0' : '1');
  var mode = document.getElementById('mode');
  mode.textContent = (lowLatency ? 'Low-Latency HLS' : 'HLS') + ' \u00b7 ';
  var a = document.createElement('a');
  a.href = '?' + other.toString();
  a.textContent = lowLatency ? 'play as plain HLS' : 'play as LL-HLS';
  mode.appendChild(a);

  function setState(s, bad) {
    w.state = s;
    elState.textContent = s;
    elState.className = bad ? 'bad' : '';
  }

  function noteError(what, fatal) {
    w.errors.push(what);
    if (w.errors.length > 50) w.errors.shift();
    if (fatal) w.fatal++;
  }

  var unmute = document.getElementById('unmute');
  unmute.onclick = function () { video.muted = false; unmute.hidden = true; };
  function play() {
    var p = video.play();
    if (p && p.catch) p.catch(function (e) { setState('press play (' + e.name + ')'); });
    if (video.muted) unmute.hidden = false;
  }

  video.addEventListener('playing', function () { setState('playing'); });
  video.addEventListener('waiting', function () { setState('buffering'); });
  video.addEventListener('error', function () {
    var e = video.error;
    noteError('video: ' + (e ? e.code + ' ' + e.message : 'error'), true);
    w.stopped++;
    setState('video error', true);
  });

  var hls = null;
  var pc = null;
  function startHls() {
    w.mode = lowLatency ? 'll-hls' : 'hls';
    if (window.Hls && window.Hls.isSupported()) {
      w.engine = 'hls.js ' + window.Hls.version;
      /* Playing a little faster (up to 1.2x) brings playback back to the target latency after
       * a start or a stall, instead of staying as far behind as the stall left it. */
      hls = new window.Hls({ lowLatencyMode: lowLatency, backBufferLength: 30,
                             maxLiveSyncPlaybackRate: 1.2 });
      var waitingForStream = false;
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () { waitingForStream = false; play(); });
      hls.on(window.Hls.Events.LEVEL_LOADED, function (ev, data) {
        w.levelParts = !!(data.details && data.details.partList && data.details.partList.length);
      });
      hls.on(window.Hls.Events.FRAG_LOADED, function (ev, data) {
        if (data.part) w.partsLoaded++; else w.fragsLoaded++;
      });
      hls.on(window.Hls.Events.ERROR, function (ev, data) {
        var code = data.response && data.response.code;
        /* No stream yet (404 on the playlist): wait for it, which is not an error of playback. */
        if (data.fatal && data.type === window.Hls.ErrorTypes.NETWORK_ERROR &&
            data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR && code === 404) {
          setState('waiting for the stream to go live');
          waitingForStream = true;
          setTimeout(function () { hls.loadSource(src); }, 2000);
          return;
        }
        var why = data.reason || (data.error && data.error.message) || '';
        noteError(data.type + ': ' + data.details + (code ? ' (' + code + ')' : '') +
                  (data.fatal ? ' [fatal]' : '') + (why ? ': ' + why : ''), data.fatal);
        if (!data.fatal) return;
        if (data.details === window.Hls.ErrorDetails.LEVEL_PARSING_ERROR) {
          /* hls.js 1.7 refuses a live LL-HLS playlist update whose newest segment starts a
           * discontinuity (a publisher restarted); loading the playlist afresh plays on. */
          setState('the stream restarted: reloading', true);
          w.reloads++;
          hls.loadSource(src);
          return;
        }
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
          setState('recovering from a media error', true);
          hls.recoverMediaError();
        } else if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
          setState('network error, retrying', true);
          setTimeout(function () { hls.startLoad(); }, 1000);
        } else {
          w.stopped++;
          setState('player error: ' + data.details, true);
        }
      });
      hls.loadSource(src);
      hls.attachMedia(video);
      w.hls = hls;
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      w.engine = 'native';
      video.src = src;
      video.addEventListener('loadedmetadata', play);
    } else {
      setState('this browser plays neither HLS nor MSE', true);
      noteError('unsupported browser', true);
      w.stopped++;
    }
  }

  /* WHEP: offer recvonly video and audio, play what comes, fall back to HLS on failure. */
  function startWebrtc(retries) {
    var done = false;
    function fail(why) {
      if (done) return;
      done = true;
      noteError('webrtc: ' + why, false);
      if (pc) pc.close();
      pc = null;
      /* After WebRTC played, give a restarting publisher a few seconds before HLS. */
      if (w.webrtcPlayed && retries > 0) {
        setState('reconnecting (' + why + ')', true);
        setTimeout(function () { startWebrtc(retries - 1); }, 1000);
        return;
      }
      video.srcObject = null;
      w.engine = null;
      mode.textContent = (lowLatency ? 'Low-Latency HLS' : 'HLS') + ' (WebRTC failed: ' + why + ')';
      startHls();
    }
    w.mode = 'webrtc';
    w.engine = 'webrtc';
    setState('connecting (WebRTC)');
    mode.textContent = 'WebRTC \u00b7 ';
    var alt = new URLSearchParams(location.search);
    alt.set('webrtc', '0');
    var a2 = document.createElement('a');
    a2.href = '?' + alt.toString();
    a2.textContent = 'play as LL-HLS';
    mode.appendChild(a2);
    pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    var ms = new MediaStream();
    pc.ontrack = function (e) { ms.addTrack(e.track); video.srcObject = ms; play(); };
    video.addEventListener('playing', function () { if (pc === mine) w.webrtcPlayed = true; });
    var mine = pc, lostTimer = null;
    /* The session ended under a playing page (DTLS closed by the node, consent lost: the
     * publisher restarted, the node went away): ask again; a stream not live any more
     * answers 404, and the page falls back to HLS, which waits for it. */
    function lost(why) {
      if (done || pc !== mine) return;
      if (!w.webrtcPlayed) { fail(why); return; }
      done = true;
      w.webrtcRestarts = (w.webrtcRestarts || 0) + 1;
      setState('reconnecting (' + why + ')', true);
      pc.close();
      pc = null;
      setTimeout(function () { startWebrtc(WEBRTC_RETRIES); }, 1000);
    }
    pc.onconnectionstatechange = function () {
      var st = mine.connectionState;
      clearTimeout(lostTimer);
      if (st === 'failed' || st === 'closed') lost('connection ' + st);
      else if (st === 'disconnected') lostTimer = setTimeout(function () { lost(st); }, 3000);
    };
    var url = 'whep' + (token ? '?token=' + encodeURIComponent(token) : '');
    pc.createOffer().then(function (o) { return pc.setLocalDescription(o); }).then(function () {
      return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp' },
                          body: pc.localDescription.sdp });
    }).then(function (res) {
      return res.text().then(function (body) {
        if (res.status !== 201) throw new Error(res.status + ' ' + body.trim());
        w.whepResource = res.headers.get('Location');
        return mine.setRemoteDescription({ type: 'answer', sdp: body });
      });
    }).then(function () {
      var dtls = mine.getTransceivers()[0].receiver.transport;
      if (dtls) dtls.onstatechange = function () { if (dtls.state === 'closed') lost('DTLS closed'); };
    }).catch(function (e) { fail(String(e && e.message || e)); });
    setTimeout(function () {
      if (done || pc !== mine) return;
      mine.getStats().then(function (st) {
        var frames = 0;
        st.forEach(function (x) {
          if (x.type === 'inbound-rtp' && x.kind === 'video') frames = x.framesDecoded || 0;
        });
        if (!frames) fail('no picture in time');
      });
    }, WEBRTC_WAIT_MS);
  }
  window.addEventListener('pagehide', function () {
    if (pc && w.whepResource) fetch(w.whepResource, { method: 'DELETE', keepalive: true });
  });

  function webrtcLatency() {
    pc.getStats().then(function (st) {
      st.forEach(function (s) {
        if (s.type !== 'inbound-rtp' || s.kind !== 'video') return;
        if (s.estimatedPlayoutTimestamp) {
          w.latencyMs = Date.now() + NTP_UNIX_OFFSET_MS - s.estimatedPlayoutTimestamp;
        } else if (s.jitterBufferEmittedCount) {
          w.latencyMs = 1000 * s.jitterBufferDelay / s.jitterBufferEmittedCount;
        }
        if (w.latencyMs != null)
          elLatency.textContent = (w.latencyMs / 1000).toFixed(2) + ' s behind live';
      });
    });
  }

  if (wantWebrtc) startWebrtc(WEBRTC_RETRIES); else startHls();

  function programDate() {
    if (hls) return hls.playingDate;
    if (video.getStartDate) {
      var start = video.getStartDate();
      if (start && !isNaN(start.getTime())) return new Date(start.getTime() + video.currentTime * 1000);
    }
    return null;
  }

  setInterval(function () {
    if (pc) {
      if (!video.paused) webrtcLatency();
      return;
    }
    var d = programDate();
    if (d && !video.paused) {
      w.latencyMs = Date.now() - d.getTime();
      elLatency.textContent = (w.latencyMs / 1000).toFixed(2) + ' s behind live';
    }
  }, 250);
})();
