// SPDX-License-Identifier: Apache-2.0
// status.js - the node's status page: what /api/v1/node and /api/v1/streams say, for a
// person, refreshed every two seconds.  When the node has an api-token, the page asks for
// it once and keeps it for this tab only (sessionStorage), sending it as a bearer token.
'use strict';

const $ = (id) => document.getElementById(id);
const status = { node: null, streams: [] };
window.sluiceStatus = status;

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? '' : String(k)));
  return e;
}

const fmtBps = (b) => b >= 1e6 ? (b / 1e6).toFixed(2) + ' Mb/s' : b >= 1e3 ? (b / 1e3).toFixed(1) + ' kb/s' : (b | 0) + ' b/s';
function fmtAge(s) {
  const h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
  return (h ? h + 'h ' : '') + m + 'm ' + (s % 60) + 's';
}

async function get(path) {
  const headers = {};
  const t = sessionStorage.getItem('sluiceNodeToken');
  if (t) headers.Authorization = 'Bearer ' + t;
  const r = await fetch(path, { headers, cache: 'no-store' });
  if (r.status === 401) throw Object.assign(new Error('token'), { status: 401 });
  if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
  return r.json();
}

function render() {
  const n = status.node;
  $('who').textContent = n.role + ' ' + n.name + ' · ' + n.version + ' · up ' + fmtAge(n.uptime_s) +
    (n.draining ? ' · DRAINING' : '');
  document.title = 'sluice ' + n.role + ' ' + n.name;
  const card = (label, value, id) => el('div', { class: 'card', id }, el('b', {}, value), label);
  $('cards').replaceChildren(
    card('connections of ' + n.max_connections, n.connections, 'card-connections'),
    card('publishers', n.publishers, 'card-publishers'),
    card('viewers (RTMP ' + n.viewers.rtmp + ', FLV ' + n.viewers.flv + ')', n.viewers.total, 'card-viewers'),
    card('streams', n.streams, 'card-streams'),
    card('in / out', fmtBps(n.bandwidth_in_bps) + ' / ' + fmtBps(n.bandwidth_out_bps), 'card-bw'),
    card('CPU', n.cpu_percent.toFixed(1) + '%', 'card-cpu'),
    card('memory', (n.memory_rss_bytes / (1 << 20)).toFixed(0) + ' MiB', 'card-mem'));
  $('streams').tBodies[0].replaceChildren(...status.streams.map((s) => {
    const v = s.viewers || {}, vid = s.video || {};
    const watch = '/' + encodeURIComponent(s.app) + '/' + encodeURIComponent(s.name) + '/';
    return el('tr', { 'data-stream': s.app + '/' + s.name },
      el('td', {}, s.app + '/' + s.name),
      el('td', {}, vid.codec ? vid.codec + ' ' + vid.width + 'x' + vid.height : ''),
      el('td', { class: 'num' }, v.rtmp), el('td', { class: 'num' }, v.flv), el('td', { class: 'num' }, v.hls),
      el('td', { class: 'num total' }, v.total), el('td', { class: 'num' }, s.cluster_pulls),
      el('td', {}, fmtAge(s.age_s || 0)), el('td', {}, el('a', { href: watch }, 'watch')));
  }));
  const c = n.cluster || {};
  $('upstreams').tBodies[0].replaceChildren(...(c.upstreams || []).map((u) => el('tr', {},
    el('td', {}, u.host + ':' + u.port), el('td', { class: u.linked ? 'up' : 'down' }, u.linked ? 'linked' : 'not linked'))));
  $('upstreams').hidden = !(c.upstreams || []).length;
  $('pulls').tBodies[0].replaceChildren(...(c.pulls || []).map((p) => el('tr', {}, el('td', {},
    Object.entries(p).filter(([, x]) => x === null || typeof x !== 'object').map(([k, x]) => k + '=' + x).join('  ')))));
  $('pulls').hidden = !(c.pulls || []).length;
  $('members').tBodies[0].replaceChildren(...(c.members || []).map((m) => el('tr', {},
    el('td', {}, m.name), el('td', {}, m.role), el('td', {}, m.host + ':' + m.rtmp_port),
    el('td', {}, el('a', { href: 'http://' + m.host + ':' + m.http_port + '/' }, 'status')))));
  $('members').hidden = !(c.members || []).length;
}

async function poll() {
  try {
    const [node, streams] = await Promise.all([get('/api/v1/node'), get('/api/v1/streams')]);
    status.node = node;
    status.streams = streams.streams;
    $('token-form').hidden = true;
    $('flash').hidden = true;
    $('main').hidden = false;
    render();
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem('sluiceNodeToken');
      $('token-form').hidden = false;
      $('main').hidden = true;
      return;  // polling resumes when a token is given
    }
    $('flash').textContent = 'The node did not answer: ' + e.message;
    $('flash').hidden = false;
  }
  setTimeout(poll, 2000);
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('sluiceNodeToken', $('token').value);
  $('token').value = '';
  poll();
});
poll();
