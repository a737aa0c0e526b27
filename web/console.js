// SPDX-License-Identifier: Apache-2.0
// console.js - the manager's console: logs in with the admin token (the manager answers
// with an HttpOnly session cookie and a CSRF token, which every call that changes state
// sends back in X-CSRF-Token), then polls the REST API every POLL_MS and draws what it
// says.  Every value from the API goes into the page as text (textContent), never as HTML.
'use strict';

const POLL_MS = 2000;
const EVENTS_LIMIT = 500;

const state = {
  csrf: null, manager: null, groups: [], nodes: [], streams: [], events: [], history: null,
  lcs: [], sps: [], timer: null, lastHistory: 0, charts: {}, chartKey: '',
};
// What the page has seen, for the tests and for a person at the developer tools.
window.sluiceConsole = state;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(k == null ? '' : String(k)));
  return e;
}

let flashTimer = null;
// Errors stay until the next message; a success fades after a few seconds.
function flash(msg, ok) {
  const f = $('flash');
  f.textContent = msg;
  f.className = ok ? 'ok' : '';
  f.hidden = !msg;
  clearTimeout(flashTimer);
  if (ok) flashTimer = setTimeout(() => { f.hidden = true; }, 5000);
}

class ApiError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}

// Calls the manager.  The session cookie goes along by itself (same origin); a call that
// changes state carries the CSRF token and a JSON body, as the manager requires.
async function api(method, path, body) {
  const opt = { method, headers: {}, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    opt.headers['Content-Type'] = 'application/json';
    opt.headers['X-CSRF-Token'] = state.csrf || '';
    opt.body = JSON.stringify(body || {});
  }
  const r = await fetch(path, opt);
  if (r.status === 204) return null;
  const text = await r.text();
  let j = null;
  try { j = text ? JSON.parse(text) : null; } catch (e) { j = null; }
  if (!r.ok) throw new ApiError(r.status, (j && j.error) || ('HTTP ' + r.status));
  return j;
}

// ---- login ----

function show(view) {
  for (const v of ['login-view', 'overview-view', 'events-view', 'stream-view'])
    $(v).hidden = v !== view;
  $('nav').hidden = view === 'login-view';
}

function toLogin(msg) {
  state.csrf = null;
  clearTimeout(state.timer);
  show('login-view');
  if (msg) flash(msg);
  $('login-token').focus();
}

async function login(ev) {
  ev.preventDefault();
  try {
    const s = await api('POST', '/console/login', { token: $('login-token').value });
    $('login-token').value = '';
    state.csrf = s.csrf;
    flash('');
    start();
  } catch (e) {
    flash('Log in failed: ' + e.message);
  }
}

async function logout() {
  try { await api('POST', '/console/logout', {}); } catch (e) { /* gone already */ }
  toLogin('Logged out.');
}

// ---- polling ----

async function poll() {
  clearTimeout(state.timer);
  try {
    const [mg, g, n, s, ev] = await Promise.all([
      api('GET', '/api/v1/manager'), api('GET', '/api/v1/groups'), api('GET', '/api/v1/nodes'),
      api('GET', '/api/v1/streams'), api('GET', '/api/v1/events?limit=' + EVENTS_LIMIT)]);
    state.manager = mg; state.groups = g.groups; state.nodes = n.nodes;
    state.streams = s.streams; state.events = ev.events;
    // The charts gain a point every intervalMs (console-sample-interval): fetched that often.
    const every = Math.max(POLL_MS, state.history ? state.history.intervalMs : 0);
    if (Date.now() - state.lastHistory >= every - 100) {
      state.history = await api('GET', '/console/history');
      state.lastHistory = Date.now();
    }
    render();
  } catch (e) {
    if (e.status === 401) return toLogin('Your session ended: log in again.');
    flash('The manager did not answer: ' + e.message);
  }
  state.timer = setTimeout(poll, POLL_MS);
}

function start() {
  state.lastHistory = 0;
  route();
  poll();
}

// ---- formatting ----

const fmtBps = (b) => b >= 1e9 ? (b / 1e9).toFixed(2) + ' Gb/s' : b >= 1e6 ? (b / 1e6).toFixed(2) + ' Mb/s'
  : b >= 1e3 ? (b / 1e3).toFixed(1) + ' kb/s' : (b | 0) + ' b/s';
const fmtBytes = (b) => b >= 1 << 30 ? (b / (1 << 30)).toFixed(1) + ' GiB' : (b / (1 << 20)).toFixed(0) + ' MiB';
const fmtTime = (ms) => new Date(ms).toLocaleTimeString();
function fmtUptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm';
}

// {"rtmp": 2, "flv": 0, "hls": 1} -> "rtmp 2 · hls 1" (what nodes report; older nodes: none).
function fmtProtocols(p) {
  const parts = Object.entries(p || {}).filter(([, v]) => v > 0).map(([k, v]) => k + ' ' + v);
  return parts.join(' · ') || '–';
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- actions, each confirmed ----

function confirmAction(text) {
  return new Promise((resolve) => {
    const d = $('confirm');
    $('confirm-text').textContent = text;
    d.returnValue = '';
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

async function act(question, method, path, body, done) {
  if (!await confirmAction(question)) return;
  try {
    await api(method, path, body);
    flash(done, true);
  } catch (e) {
    if (e.status === 401) return toLogin('Your session ended: log in again.');
    flash(e.message);
  }
  poll();
}

function dialogResult(d) {
  return new Promise((resolve) => {
    d.returnValue = '';
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

async function createGroup() {
  try {
    const [lc, sp] = await Promise.all([api('GET', '/api/v1/launchconfigs'), api('GET', '/api/v1/scalepolicies')]);
    $('g-lc').replaceChildren(...lc.launchConfigs.map((c) => el('option', { value: c.name }, c.name)));
    $('g-sp').replaceChildren(...sp.scalePolicies.map((p) => el('option', { value: p.name }, p.name)));
  } catch (e) { return flash(e.message); }
  if (!await dialogResult($('group-dialog'))) return;
  const body = {
    launchConfig: $('g-lc').value, scalePolicy: $('g-sp').value,
    regions: $('g-regions').value.split(',').map((s) => s.trim()).filter(Boolean),
    replaceDeadNodes: $('g-replace').checked,
  };
  if ($('g-name').value) body.name = $('g-name').value;
  act('Create node group ' + (body.name || '(generated name)') + ' from launch configuration ' +
      body.launchConfig + ' and scale policy ' + body.scalePolicy + '?', 'POST', '/api/v1/groups',
      body, 'Group created. Add an origin to start it.');
}

async function setThresholds(g) {
  $('th-group').textContent = g.name;
  const cur = (g.thresholds || {})[$('th-role').value] || {};
  $('th-out').value = cur.scaleOut || 60;
  $('th-in').value = cur.scaleIn != null ? cur.scaleIn : 20;
  if (!await dialogResult($('th-dialog'))) return;
  const role = $('th-role').value, out = Number($('th-out').value), inn = Number($('th-in').value);
  act('Set ' + role + ' thresholds of ' + g.name + ': scale out above ' + out + '%, in below ' + inn + '%?',
      'PUT', '/api/v1/groups/' + encodeURIComponent(g.name) + '/thresholds',
      { role, scaleOut: out, scaleIn: inn }, 'Thresholds set.');
}

// ---- views ----

function renderCards() {
  const m = state.manager;
  $('mgr-info').textContent = 'manager ' + m.version + ' · up ' + fmtUptime(m.uptimeS) + ' · controller ' + m.controller;
  const alive = state.nodes.filter((n) => n.state === 'alive').length;
  const viewers = state.streams.reduce((a, s) => a + s.viewers, 0);
  const bw = state.nodes.reduce((a, n) => a + (n.load ? n.load.bandwidthOutBps : 0), 0);
  const card = (label, value, id) => el('div', { class: 'card', id }, el('b', {}, value), label);
  $('cards').replaceChildren(
    card('groups', m.groups, 'card-groups'), card('nodes alive of ' + state.nodes.length, alive, 'card-nodes'),
    card('live streams', state.streams.filter((s) => s.origin).length, 'card-streams'),
    card('viewers', viewers, 'card-viewers'), card('bandwidth out', fmtBps(bw), 'card-bw'));
}

function roleCounts(g, role) {
  const c = (g.counts || {})[role] || {};
  const parts = Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => v + ' ' + k);
  return parts.join(', ') || '0';
}

function renderGroups() {
  fill($('groups').tBodies[0], state.groups.map((g) => {
    const th = Object.entries(g.thresholds || {}).map(([r, t]) => r + ' ' + t.scaleOut + '/' + t.scaleIn).join(', ');
    const gp = '/api/v1/groups/' + encodeURIComponent(g.name);
    return el('tr', { 'data-group': g.name },
      el('td', {}, g.name), el('td', {}, g.launchConfig), el('td', {}, g.scalePolicy),
      el('td', { class: 'origins' }, roleCounts(g, 'origin')), el('td', { class: 'edges' }, roleCounts(g, 'edge')),
      el('td', {}, roleCounts(g, 'relay')), el('td', {}, th),
      el('td', {},
        el('button', { type: 'button', class: 'add-origin', onclick: () => act('Add an origin to ' + g.name +
          ' (and the scale policy\'s minimum of edges)?', 'POST', gp + '/origins', {}, 'Origin launched.') }, 'Add origin'), ' ',
        el('button', { type: 'button', class: 'thresholds', onclick: () => setThresholds(g) }, 'Thresholds'), ' ',
        el('button', { type: 'button', class: 'danger delete-group', onclick: () => act('Delete group ' + g.name +
          ' and stop all its nodes? Viewers and publishers on them are cut off.', 'DELETE', gp, null,
          'Group deleted.') }, 'Delete')));
  }));
}

function renderNodes() {
  fill($('nodes').tBodies[0], state.nodes.map((n) => {
    const l = n.load || {};
    const pct = Math.min(100, l.loadPercent || 0);
    const bar = el('span', { class: 'bar' }, el('i', { class: pct >= 80 ? 'hot' : '' }));
    bar.firstChild.style.width = pct + '%';
    const np = '/api/v1/nodes/' + encodeURIComponent(n.id);
    const status = 'http://' + n.host + ':' + n.httpPort + '/';
    return el('tr', { 'data-node': n.id },
      el('td', {}, el('a', { href: status, target: '_blank', rel: 'noopener noreferrer' }, n.id)),
      el('td', {}, n.group), el('td', { class: 'role' }, n.role),
      el('td', { class: 'state state-' + n.state }, n.state),
      el('td', {}, bar, (l.connections || 0) + ' / ' + (l.capacity || '–') + ' (' + (l.loadPercent || 0).toFixed(0) + '%)'),
      el('td', { class: 'num' }, (l.cpuPercent || 0).toFixed(1) + '%'),
      el('td', { class: 'num' }, fmtBytes(l.memoryRssBytes || 0)),
      el('td', { class: 'num' }, fmtBps(l.bandwidthInBps || 0) + ' / ' + fmtBps(l.bandwidthOutBps || 0)),
      el('td', { class: 'num' }, n.heartbeatAgeMs == null ? '–' : (n.heartbeatAgeMs / 1000).toFixed(1) + ' s ago'),
      el('td', {}, n.state === 'alive' ? el('button', { type: 'button', class: 'drain', onclick: () => act(
        'Drain ' + n.id + '? The manager sends it no new clients and removes it when the last one leaves.',
        'POST', np + '/drain', {}, 'Draining ' + n.id + '.') }, 'Drain') : '', ' ',
      el('button', { type: 'button', class: 'danger stop', onclick: () => act('Stop ' + n.id +
        ' now? Its clients are cut off.', 'DELETE', np, null, 'Stopped ' + n.id + '.') }, 'Stop')));
  }));
}

function streamHref(s) {
  return '#/stream/' + encodeURIComponent(s.app) + '/' + encodeURIComponent(s.name);
}

function renderStreams() {
  fill($('streams').tBodies[0], state.streams.map((s) => el('tr', { 'data-stream': s.app + '/' + s.name },
    el('td', {}, el('a', { href: streamHref(s) }, s.app + '/' + s.name)),
    el('td', { class: 'origin' }, s.origin || '(not published)'), el('td', {}, s.group || ''),
    el('td', { class: 'num viewers' }, s.viewers),
    el('td', { class: 'protocols' }, fmtProtocols(s.protocols)),
    el('td', {}, s.nodes.map((n) => n.id + ' (' + n.viewers + ')').join(', ')))));
}

function eventMatches(e) {
  const g = $('f-group').value.trim(), n = $('f-node').value.trim(), k = $('f-kind').value.trim();
  return (!g || (e.group || '') === g) && (!n || (e.node || '') === n) && (!k || e.kind.includes(k));
}

function renderEvents() {
  const opts = (id, vals) => $(id).replaceChildren(...[...new Set(vals.filter(Boolean))].sort().map((v) => el('option', { value: v })));
  opts('dl-groups', state.events.map((e) => e.group));
  opts('dl-nodes', state.events.map((e) => e.node));
  opts('dl-kinds', state.events.map((e) => e.kind));
  fill($('events').tBodies[0], state.events.filter(eventMatches).slice(0, 300).map((e) => el('tr', { 'data-kind': e.kind },
    el('td', {}, fmtTime(e.ts)), el('td', {}, e.kind), el('td', {}, e.group || ''), el('td', {}, e.node || ''),
    el('td', {}, e.message))));
}

// ---- charts (uPlot) ----

const COLORS = ['#2f7de1', '#d9480f', '#2b8a3e', '#862e9c', '#c2255c', '#1098ad', '#e67700', '#5c940d'];

// Vertical lines where the autoscaler scaled out (green) or in (orange).
function scaleMarks() {
  return {
    hooks: {
      draw: [(u) => {
        const ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
        ctx.save();
        ctx.lineWidth = 2 * devicePixelRatio;
        for (const e of state.events) {
          if (e.kind !== 'scale_out' && e.kind !== 'scale_in') continue;
          const x = u.valToPos(e.ts / 1000, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.strokeStyle = e.kind === 'scale_out' ? '#2b8a3e' : '#e67700';
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
        }
        ctx.restore();
      }],
    },
  };
}

function drawChart(id, title, series, field, scale) {
  const h = state.history;
  const el0 = $(id);
  const key = series.map((s) => s.name).join('|');
  const data = [h.t.map((t) => t / 1000), ...series.map((s) => s[field].map((v) => v == null ? null : v * scale))];
  let c = state.charts[id];
  if (c && c.key !== key) { c.plot.destroy(); c = null; }
  if (!c) {
    if (!window.uPlot) return;
    const plot = new uPlot({
      title, width: 420, height: 220, plugins: [scaleMarks()],
      scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      series: [{}, ...series.map((s, i) => ({ label: s.name, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
    }, data, el0);
    c = state.charts[id] = { plot, key };
  } else {
    c.plot.setData(data);
  }
}

function renderCharts() {
  if (!state.history) return;
  const kind = $('chart-scope').value;
  const series = state.history.series.filter((s) => s.kind === kind).slice(0, COLORS.length);
  drawChart('chart-viewers', 'Viewers', series, 'viewers', 1);
  drawChart('chart-bw', 'Bandwidth out (Mb/s)', series, 'bwOutBps', 1e-6);
  drawChart('chart-cpu', 'CPU %', series, 'cpu', 1);
}

// ---- a stream's page ----

let playerFor = '';

async function renderStream(app, name) {
  const key = app + '/' + name;
  $('stream-title').textContent = key;
  const s = state.streams.find((x) => x.app === app && x.name === name);
  const byId = Object.fromEntries(state.nodes.map((n) => [n.id, n]));
  $('stream-where').textContent = s ? (s.origin ? 'Published on ' + s.origin + ' in group ' + s.group + '; ' : 'Not published now; ') +
    s.viewers + ' viewer(s) on ' + s.nodes.length + ' node(s).' : 'No node reports this stream now.';
  fill($('stream-nodes').tBodies[0], (s ? s.nodes : []).map((n) => {
    const nd = byId[n.id];
    const url = nd ? 'http://' + nd.host + ':' + nd.httpPort + '/' : '';
    return el('tr', { 'data-node': n.id }, el('td', {}, n.id), el('td', {}, n.role), el('td', {}, n.publishing ? 'yes' : ''),
      el('td', { class: 'num viewers' }, n.viewers), el('td', { class: 'protocols' }, fmtProtocols(n.protocols)),
      el('td', {}, url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, 'status page') : ''));
  }));
  if (state.history) {
    const series = state.history.series.filter((x) => x.kind === 'stream' && x.name === key);
    drawChart('chart-stream', 'Viewers of ' + key, series, 'viewers', 1);
  }
  // The player: the node's own watch page, where the manager would send a viewer.
  if (s && s.origin && playerFor !== key) {
    playerFor = key;
    try {
      const r = await api('GET', '/api/v1/streams/' + encodeURIComponent(app) + '/' + encodeURIComponent(name) + '?action=subscribe');
      $('player').src = r.urls.watch;
      $('player-where').textContent = 'on ' + r.node + ' (' + r.role + '), as a viewer is routed';
    } catch (e) {
      playerFor = '';
      $('player-where').textContent = e.message;
    }
  }
}

// ---- routing between views ----

function route() {
  const h = location.hash || '#/';
  if (!state.csrf) return;
  if (h.startsWith('#/stream/')) {
    show('stream-view');
  } else if (h === '#/events') {
    show('events-view');
  } else {
    show('overview-view');
  }
  if (!h.startsWith('#/stream/')) { playerFor = ''; $('player').removeAttribute('src'); }
  if (state.manager) render();
}

function render() {
  const h = location.hash || '#/';
  renderCards();
  if (h.startsWith('#/stream/')) {
    const [app, name] = h.slice(9).split('/').map(decodeURIComponent);
    renderStream(app, name);
  } else if (h === '#/events') {
    renderEvents();
  } else {
    renderGroups(); renderNodes(); renderStreams(); renderCharts();
  }
}

async function boot() {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('create-group').addEventListener('click', createGroup);
  $('chart-scope').addEventListener('change', () => renderCharts());
  $('th-role').addEventListener('change', () => {
    const g = state.groups.find((x) => x.name === $('th-group').textContent);
    const cur = g && (g.thresholds || {})[$('th-role').value];
    if (cur) { $('th-out').value = cur.scaleOut; $('th-in').value = cur.scaleIn; }
  });
  $('event-filter').addEventListener('input', renderEvents);
  $('event-filter').addEventListener('submit', (e) => e.preventDefault());
  window.addEventListener('hashchange', route);
  try {
    const s = await api('GET', '/console/session');
    state.csrf = s.csrf;
    start();
  } catch (e) {
    toLogin('');
  }
}

boot();
