/* SPDX-License-Identifier: MIT */
/*
 * app.js - the page of `ttlog serve` and `ttlog report`: plain JavaScript,
 * no framework, no network but the server it came from.
 *
 * Data comes from the JSON API (docs/SERVE.md) through api(); in a report
 * (a file that opens from disk) the answers are embedded in the page as
 * <script type="application/json" id="ttlog-data"> and api() answers from
 * them, filtering the embedded events itself. The URL's hash names the
 * view (source, tab, range, filters), so a link shows the same thing.
 */
'use strict';

const $ = (id) => document.getElementById(id);
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const LEVEL_COLORS = ['#9aa3b5', '#5f8dd3', '#2e9e5b', '#d99a00', '#d3412f', '#8e1b7c'];
const ROW_H = 20;
const PAGE = 500;
/* The overview's bins: SERVE_PAGE_BINS of src/serve/internal.h, which the
 * server computes ahead for every source. */
const BINS = 800;

const embedded = (() => {
  const el = document.getElementById('ttlog-data');
  return el ? JSON.parse(el.textContent) : null;
})();
const token = new URLSearchParams(location.search).get('token');

const state = {
  src: null, tab: 'events', since: null, until: null,
  filters: { level: '', text: '', thread: '', field: '', trace: '', spans: false },
  rows: [], next: null, loading: false, selected: -1, gen: 0,
  overview: null, spans: [], view: null, tail: null,
  ticks: null, ticksGen: 0,
};

/* ---- Data ---------------------------------------------------------------- */

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function setStatus(text, isError) {
  const s = $('status');
  s.textContent = text;
  s.className = isError ? 'error' : '';
}

async function api(name, params) {
  if (embedded) return embeddedApi(name, params);
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== '' && v != null && v !== false) q.set(k, v);
  if (token) q.set('token', token);
  const r = await fetch('api/' + name + '?' + q.toString());
  const body = await r.json().catch(() => ({ error: 'HTTP ' + r.status }));
  if (!r.ok) throw new Error(body.error || 'HTTP ' + r.status);
  return body;
}

/* The report's answers: the events are filtered here as the server would. */
function embeddedApi(name, p) {
  const d = embedded;
  if (name === 'files') return d.files;
  if (name === 'overview' && !p.spans) return embeddedTicks(p);
  if (name === 'overview') return { ...d.overview, spans: d.spans.spans };
  if (name === 'metrics') return d.metrics;
  if (name === 'crash') return d.crash;
  if (name === 'spans') {
    const spans = d.spans.spans.filter((s) => !p.trace || s.trace === p.trace);
    return { spans, truncated: d.spans.truncated };
  }
  if (name === 'events') {
    const min = p.level ? LEVELS.indexOf(p.level.toUpperCase()) : 0;
    const since = p.since != null ? Number(p.since) : -Infinity;
    const until = p.until != null ? Number(p.until) : Infinity;
    const [fk, ...fv] = (p.field || '').split('=');
    const out = d.events.events.filter((e) =>
      (p.kind === 'all' || e.kind === 'log') &&
      (e.kind !== 'log' || LEVELS.indexOf(e.level) >= min) &&
      e.time_ns >= since && e.time_ns <= until &&
      (!p.thread || e.thread === p.thread) &&
      (!p.text || e.message.toLowerCase().includes(p.text.toLowerCase())) &&
      (!p.trace || e.trace_id === p.trace) &&
      (!p.field || (e.fields && fk in e.fields && String(e.fields[fk]) === fv.join('='))));
    return { events: out, next: null, partial: false };
  }
  throw new Error('SQL needs `ttlog serve`: this is an offline report');
}

/* The report's filtered ticks: its events that pass, binned over the
 * overview's range as the server bins them. */
function embeddedTicks(p) {
  const ov = embedded.overview;
  const bins = Number(p.bins) || ov.bins;
  const width = ov.last_ns - ov.first_ns + 1;
  const lanes = new Map();
  for (const e of embeddedApi('events', p).events) {
    const k = laneKey(e.pid, e.tid);
    if (!lanes.has(k)) lanes.set(k, { pid: e.pid, tid: e.tid, bins: new Map() });
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((e.time_ns - ov.first_ns) / width) * bins)));
    const lv = Math.max(0, LEVELS.indexOf(e.level));
    const cur = lanes.get(k).bins.get(b) || [b, 0, 0];
    lanes.get(k).bins.set(b, [b, cur[1] + 1, Math.max(cur[2], lv)]);
  }
  return { first_ns: ov.first_ns, last_ns: ov.last_ns, bins,
    lanes: [...lanes.values()].map((l) => ({ pid: l.pid, tid: l.tid, bins: [...l.bins.values()] })) };
}

/* ---- The URL's hash -------------------------------------------------------- */

function writeHash() {
  const q = new URLSearchParams();
  if (state.src != null) q.set('src', state.src);
  if (state.tab !== 'events') q.set('tab', state.tab);
  if (state.since != null) q.set('since', state.since);
  if (state.until != null) q.set('until', state.until);
  for (const [k, v] of Object.entries(state.filters)) if (v) q.set(k, v === true ? '1' : v);
  const h = '#' + q.toString();
  if (location.hash !== h) history.replaceState(null, '', h);
}

function readHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  if (q.has('src')) state.src = Number(q.get('src'));
  state.tab = q.get('tab') || 'events';
  state.since = q.get('since');
  state.until = q.get('until');
  for (const k of Object.keys(state.filters))
    state.filters[k] = k === 'spans' ? q.get(k) === '1' : q.get(k) || '';
}

/* ---- Files ----------------------------------------------------------------- */

function fmtSize(n) {
  if (n == null || n < 0) return '-';
  const u = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i && n < 10 ? n.toFixed(1) : Math.round(n)) + u[i];
}

async function loadFiles() {
  const d = await api('files');
  const sel = $('source');
  sel.textContent = '';
  const body = document.querySelector('#files tbody');
  body.textContent = '';
  for (const s of d.sources) {
    const label = (s.parent >= 0 ? '  ' : '') + s.name + (s.kind === 'store' ? ' (' + s.files + ' files)' : '') +
      (s.kind === 'process' ? ' ' + (s.executable || '') + ' (' + s.status + ')' : '');
    sel.append(el('option', { value: s.id, text: label }));
    if (s.kind !== 'file') continue;
    const tr = el('tr', { class: 'pick', tabindex: '0', title: 'show this file' },
      el('td', { text: s.id }), el('td', { text: (s.created || '').replace('T', ' ').slice(0, 19) }),
      el('td', { text: s.pid ?? '' }), el('td', { text: s.executable || '' }),
      el('td', { text: s.reason || '' }), el('td', { text: s.signal || '-' }),
      el('td', { text: s.events ?? '' }), el('td', { text: fmtSize(s.size) }),
      el('td', { text: s.status }), el('td', { text: s.label }));
    const pick = () => { choose(s.id); };
    tr.addEventListener('click', pick);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') pick(); });
    body.append(tr);
  }
  if (state.src == null || !d.sources.some((s) => s.id === state.src))
    state.src = d.sources.length ? d.sources[0].id : null;
  sel.value = state.src;
}

function choose(id) {
  state.src = Number(id);
  $('source').value = state.src;
  state.since = state.until = null;
  state.view = null;
  reloadAll();
}

/* ---- Timeline ---------------------------------------------------------------- */

const tl = { lanes: [], laneY: new Map(), h: 0, brush: null, drag: null };

async function loadTimeline() {
  /* One pass over the data gives the lanes, the ticks and the spans. */
  const ov = await api('overview', { src: state.src, bins: BINS, spans: 1 });
  state.overview = ov;
  state.spans = ov.spans || [];
  if (!state.view) state.view = [ov.first_ns, Math.max(ov.last_ns, ov.first_ns + 1)];
  layoutLanes();
  drawTimeline();
  /* The events may have come first: an event selected before the spans
   * arrived gets its span chain now. */
  if (state.selected >= 0 && state.rows && state.rows[state.selected])
    showDetail(state.rows[state.selected], state.selected);
}

function laneKey(pid, tid) { return pid + '/' + tid; }

/* The filters of the table that the ticks follow too (the time range is
 * the table's alone: the timeline shows where it lies). */
function tickFilters() {
  const f = state.filters;
  return { level: f.level, text: f.text, thread: f.thread, field: f.field, trace: f.trace, kind: f.spans ? 'all' : '' };
}

/* The ticks of the events that pass the table's filters: another overview
 * of the same range, without spans; none when nothing is filtered (the
 * overview's own ticks are those). */
async function loadTicks() {
  const gen = ++state.ticksGen;
  const p = tickFilters();
  if (!Object.values(p).some((v) => v)) {
    state.ticks = null;
    drawTimeline();
    return;
  }
  try {
    const d = await api('overview', { src: state.src, bins: BINS, ...p });
    if (gen !== state.ticksGen) return;
    state.ticks = { first_ns: d.first_ns, last_ns: d.last_ns, bins: d.bins,
      lanes: new Map(d.lanes.map((l) => [laneKey(l.pid, l.tid), l.bins])) };
  } catch (err) {
    if (gen === state.ticksGen) setStatus('timeline: ' + err.message, true);
    return;
  }
  drawTimeline();
}

function layoutLanes() {
  const ov = state.overview;
  const lanes = ov.lanes.map((l) => ({ ...l, depth: 0 }));
  const byKey = new Map(lanes.map((l) => [laneKey(l.pid, l.tid), l]));
  for (const s of state.spans) {
    let l = byKey.get(laneKey(s.pid, s.tid));
    if (!l) { l = { pid: s.pid, tid: s.tid, name: s.thread, bins: [], events: 0, depth: 0 }; lanes.push(l); byKey.set(laneKey(s.pid, s.tid), l); }
    l.depth = Math.max(l.depth, s.depth + 1);
  }
  lanes.sort((a, b) => a.pid - b.pid || a.tid - b.tid);
  let y = 4;
  const box = $('lanes');
  box.textContent = '';
  tl.laneY.clear();
  for (const l of lanes) {
    l.y = y;
    l.h = 14 + l.depth * 12;
    tl.laneY.set(laneKey(l.pid, l.tid), l);
    const lab = el('div', { class: 'lane-label' + (l.crashed ? ' crashed' : ''), title: 'pid ' + l.pid + ' tid ' + l.tid,
      text: (l.service ? l.service + ' ' : '') + l.pid + ' ' + (l.name || '') + ' [' + l.tid + ']' });
    lab.style.top = y + 'px';
    lab.dataset.pid = l.pid;
    lab.dataset.tid = l.tid;
    box.append(lab);
    y += l.h + 6;
  }
  tl.lanes = lanes;
  tl.h = y;
  /* The box grows to 420 px, then scrolls; canvas and labels are as tall as the lanes. */
  const full = Math.max(120, y + 24);
  $('timeline').style.height = Math.min(full, 420) + 'px';
  $('tl-canvas').style.height = full + 'px';
  box.style.height = full + 'px';
}

function xOf(t, w) { const [a, b] = state.view; return ((t - a) / (b - a)) * w; }
function tOf(x, w) { const [a, b] = state.view; return a + (x / w) * (b - a); }

function fmtDur(ns) {
  ns = Math.abs(ns);
  if (ns < 1e3) return ns.toFixed(0) + 'ns';
  if (ns < 1e6) return (ns / 1e3).toFixed(3) + 'us';
  if (ns < 1e9) return (ns / 1e6).toFixed(3) + 'ms';
  return (ns / 1e9).toFixed(3) + 's';
}

function fmtTime(ns) {
  const d = new Date(ns / 1e6);
  return isNaN(d) ? String(ns) : d.toISOString().replace('T', ' ').replace('Z', '');
}

function drawTimeline() {
  const c = $('tl-canvas');
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth, h = c.clientHeight;
  c.width = w * dpr; c.height = h * dpr;
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const ov = state.overview;
  if (!ov || !state.view) return;
  /* Ticks: the filtered ones when the table is filtered. */
  const tk = state.ticks || ov;
  const span0 = tk.last_ns - tk.first_ns + 1;
  let drawn = 0, ticks = 0;
  for (const l of tl.lanes) {
    g.fillStyle = '#f7f8fa';
    g.fillRect(0, l.y, w, l.h);
    for (const [b, n, lv] of (state.ticks ? state.ticks.lanes.get(laneKey(l.pid, l.tid)) || [] : l.bins)) {
      ticks += n;
      const t0 = tk.first_ns + (b / tk.bins) * span0, t1 = tk.first_ns + ((b + 1) / tk.bins) * span0;
      const x0 = xOf(t0, w), x1 = xOf(t1, w);
      if (x1 < 0 || x0 > w) continue;
      g.fillStyle = LEVEL_COLORS[Math.max(0, lv)] || '#888';
      g.fillRect(x0, l.y + 1, Math.max(1.5, x1 - x0), 8);
    }
  }
  for (const s of state.spans) {
    const l = tl.laneY.get(laneKey(s.pid, s.tid));
    if (!l) continue;
    const x0 = xOf(s.begin_ns, w), x1 = xOf(s.end_ns, w);
    if (x1 < 0 || x0 > w) continue;
    const y = l.y + 12 + s.depth * 12;
    g.fillStyle = s.open ? '#e8a297' : (s.trace === state.filters.trace ? '#f0b400' : '#9db8e6');
    g.fillRect(x0, y, Math.max(2, x1 - x0), 10);
    g.strokeStyle = '#4a6fae';
    g.strokeRect(x0 + 0.5, y + 0.5, Math.max(1, x1 - x0 - 1), 9);
    if (x1 - x0 > 30) {
      g.fillStyle = '#1d2330';
      g.font = '9px system-ui';
      g.save(); g.beginPath(); g.rect(x0, y, x1 - x0, 10); g.clip();
      g.fillText(s.name, Math.max(x0, 0) + 2, y + 8);
      g.restore();
    }
    drawn++;
  }
  for (const m of ov.markers) {
    const x = xOf(m.t, w);
    if (x < -2 || x > w + 2) continue;
    g.strokeStyle = m.kind === 'crash' ? '#d3412f' : '#8e1b7c';
    g.lineWidth = m.kind === 'crash' ? 2 : 1;
    g.beginPath(); g.moveTo(x, 0); g.lineTo(x, h); g.stroke();
    g.fillStyle = g.strokeStyle;
    g.font = '10px system-ui';
    g.fillText((m.kind === 'crash' ? '✖ ' : '◆ ') + m.text, Math.min(x + 3, w - 80), h - 4);
  }
  g.lineWidth = 1;
  if (state.since != null || state.until != null) {
    const a = state.since != null ? xOf(Number(state.since), w) : 0;
    const b = state.until != null ? xOf(Number(state.until), w) : w;
    g.fillStyle = 'rgba(59,125,221,0.12)';
    g.fillRect(a, 0, b - a, h);
  }
  if (tl.brush) {
    g.fillStyle = 'rgba(59,125,221,0.25)';
    g.fillRect(Math.min(tl.brush[0], tl.brush[1]), 0, Math.abs(tl.brush[1] - tl.brush[0]), h);
  }
  g.fillStyle = '#6b7385';
  g.font = '10px system-ui';
  g.fillText(fmtTime(state.view[0]), 2, 10);
  const right = fmtTime(state.view[1]);
  g.fillText(right, w - g.measureText(right).width - 2, 10);
  const tlEl = $('timeline');
  tlEl.dataset.lanes = tl.lanes.length;
  tlEl.dataset.spans = drawn;
  tlEl.dataset.ticks = ticks;
  tlEl.dataset.ticksFiltered = state.ticks ? '1' : '0';
  /* The first drawing of a source's data: a mark for timing the page. */
  if (tlEl.dataset.drawn !== '1') performance.mark('ttlog-timeline-drawn');
  tlEl.dataset.drawn = '1';
}

function zoom(factor, center) {
  const [a, b] = state.view;
  const c = center ?? (a + b) / 2;
  const na = c - (c - a) * factor, nb = c + (b - c) * factor;
  if (nb - na < 10) return;
  state.view = [na, nb];
  drawTimeline();
}

function pan(frac) {
  const [a, b] = state.view;
  const d = (b - a) * frac;
  state.view = [a + d, b + d];
  drawTimeline();
}

function resetView() {
  const ov = state.overview;
  if (!ov) return;
  state.view = [ov.first_ns, Math.max(ov.last_ns, ov.first_ns + 1)];
  drawTimeline();
}

function setRange(since, until) {
  state.since = since == null ? null : String(Math.floor(since));
  state.until = until == null ? null : String(Math.ceil(until));
  showRange();
  writeHash();
  drawTimeline();
  reloadTable();
}

function showRange() {
  $('f-range').textContent = state.since != null || state.until != null
    ? 'range ' + fmtTime(Number(state.since)) + ' … ' + fmtTime(Number(state.until)) : '';
}

function spanAt(x, y, w) {
  for (const s of state.spans) {
    const l = tl.laneY.get(laneKey(s.pid, s.tid));
    if (!l) continue;
    const sy = l.y + 12 + s.depth * 12;
    const x0 = xOf(s.begin_ns, w), x1 = Math.max(x0 + 2, xOf(s.end_ns, w));
    if (y >= sy && y <= sy + 10 && x >= x0 && x <= x1) return s;
  }
  return null;
}

function initTimeline() {
  const c = $('tl-canvas');
  c.addEventListener('wheel', (e) => {
    e.preventDefault();
    const w = c.clientWidth;
    if (e.ctrlKey || Math.abs(e.deltaY) >= Math.abs(e.deltaX)) zoom(e.deltaY > 0 ? 1.25 : 0.8, tOf(e.offsetX, w));
    else pan(e.deltaX / w);
  }, { passive: false });
  c.addEventListener('mousedown', (e) => {
    if (e.shiftKey) tl.brush = [e.offsetX, e.offsetX];
    else tl.drag = { x: e.offsetX, view: state.view.slice(), moved: false };
  });
  c.addEventListener('mousemove', (e) => {
    const w = c.clientWidth;
    if (tl.brush) { tl.brush[1] = e.offsetX; drawTimeline(); return; }
    if (tl.drag) {
      const dx = e.offsetX - tl.drag.x;
      if (Math.abs(dx) > 2) tl.drag.moved = true;
      const [a, b] = tl.drag.view;
      const d = (dx / w) * (b - a);
      state.view = [a - d, b - d];
      drawTimeline();
      return;
    }
    const s = spanAt(e.offsetX, e.offsetY, w);
    const tip = $('tl-tip');
    if (s) {
      tip.hidden = false;
      tip.textContent = s.name + ' ' + fmtDur(s.duration_ns) + (s.open ? ' (open)' : '') + ' — click for its trace';
      tip.style.left = (e.offsetX + 180) + 'px';
      tip.style.top = (e.offsetY + 12) + 'px';
    } else tip.hidden = true;
  });
  window.addEventListener('mouseup', (e) => {
    const w = c.clientWidth;
    if (tl.brush) {
      const [x0, x1] = tl.brush.sort((a, b) => a - b);
      tl.brush = null;
      if (x1 - x0 > 3) setRange(tOf(x0, w), tOf(x1, w));
      else drawTimeline();
    } else if (tl.drag) {
      const moved = tl.drag.moved;
      tl.drag = null;
      if (!moved && e.target === c) {
        const s = spanAt(e.offsetX, e.offsetY, w);
        if (s) openTrace(s.trace);
      }
    }
  });
  $('timeline').addEventListener('keydown', (e) => {
    const k = e.key;
    if (k === '+' || k === '=') zoom(0.8);
    else if (k === '-') zoom(1.25);
    else if (k === 'ArrowLeft') pan(-0.1);
    else if (k === 'ArrowRight') pan(0.1);
    else if (k === '0') resetView();
    else if (k === '[' || k === ']') {
      /* [ and ] select the visible range for the table. */
      setRange(state.view[0], state.view[1]);
    } else return;
    e.preventDefault();
  });
  window.addEventListener('resize', () => drawTimeline());
}

/* ---- The event table (virtualised) ------------------------------------------- */

function filterParams() {
  const f = state.filters;
  return { src: state.src, level: f.level, text: f.text, thread: f.thread, field: f.field,
    trace: f.trace, kind: f.spans ? 'all' : '', since: state.since, until: state.until };
}

async function reloadTable() {
  state.gen++;
  state.rows = [];
  state.next = null;
  state.selected = -1;
  state.loading = false;
  $('table-body').scrollTop = 0;
  await loadMore(true);
}

async function loadMore(first) {
  if (state.loading || (!first && !state.next)) return;
  state.loading = true;
  const gen = state.gen;
  try {
    const p = { ...filterParams(), limit: PAGE, cursor: first ? '' : state.next };
    const d = await api('events', p);
    if (gen !== state.gen) return;
    state.rows.push(...d.events);
    state.next = d.next;
    setStatus(state.rows.length + (state.next ? '+' : '') + ' events' + (d.error ? ' — ' + d.error : ''), !!d.error);
  } catch (err) {
    if (gen === state.gen) setStatus(err.message, true);
  } finally {
    if (gen === state.gen) state.loading = false;
  }
  renderRows();
}

function renderRows() {
  const body = $('table-body'), spacer = $('table-spacer');
  spacer.style.height = state.rows.length * ROW_H + 'px';
  const top = body.scrollTop, h = body.clientHeight || 400;
  const first = Math.max(0, Math.floor(top / ROW_H) - 10);
  const last = Math.min(state.rows.length, Math.ceil((top + h) / ROW_H) + 10);
  spacer.textContent = '';
  for (let i = first; i < last; i++) {
    const e = state.rows[i];
    const r = el('div', { class: 'row' + (i === state.selected ? ' selected' : ''), role: 'row', 'data-i': i },
      el('span', { text: e.time.replace('T', ' ').replace('Z', '') }),
      el('span', { class: 'lv-' + e.level, text: e.level }),
      el('span', { text: e.pid }),
      el('span', { text: e.thread + ' ' + e.tid }),
      el('span', { class: 'msg', text: e.message }));
    r.style.top = i * ROW_H + 'px';
    spacer.append(r);
  }
  $('table').dataset.rows = state.rows.length;
  if (state.next && last >= state.rows.length - 20) loadMore(false);
}

function select(i) {
  if (i < 0 || i >= state.rows.length) return;
  state.selected = i;
  const body = $('table-body');
  const y = i * ROW_H;
  if (y < body.scrollTop) body.scrollTop = y;
  else if (y + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = y + ROW_H - body.clientHeight;
  renderRows();
  showDetail(state.rows[i], i);
}

function spanChain(e) {
  const chain = [];
  if (!e.span_id) return chain;
  const byId = new Map(state.spans.map((s) => [s.id + '/' + s.pid, s]));
  let s = byId.get(e.span_id + '/' + e.pid);
  for (let n = 0; s && n < 64; n++) {
    chain.push(s);
    s = byId.get(s.parent + '/' + s.pid);
  }
  return chain;
}

function dl(pairs) {
  const d = el('dl');
  for (const [k, v] of pairs) d.append(el('dt', { text: k }), el('dd', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) }));
  return d;
}

function showDetail(e, i) {
  const box = $('detail');
  box.textContent = '';
  box.append(el('h3', { text: 'Event' }), dl([['time', e.time], ['level', e.level], ['message', e.message],
    ['process', e.pid + (e.service ? ' (' + e.service + ')' : '')], ['thread', e.thread + ' [' + e.tid + ']'], ['kind', e.kind]]));
  const fields = Object.entries(e.fields || {});
  box.append(el('h3', { text: 'Fields' }), fields.length ? dl(fields) : el('p', { class: 'hint', text: 'none' }));
  box.append(el('h3', { text: 'Call site' }), dl([['function', e.function], ['file', e.file + ':' + e.line], ['target', e.target]]));
  if (e.trace_id) {
    const a = el('a', { class: 'trace', tabindex: '0', text: e.trace_id, onclick: () => openTrace(e.trace_id) });
    a.addEventListener('keydown', (k) => { if (k.key === 'Enter') openTrace(e.trace_id); });
    box.append(el('h3', { text: 'Span chain' }), el('div', null, 'trace ', a));
    const chain = spanChain(e);
    const ol = el('ol');
    for (const s of chain) ol.append(el('li', { text: s.name + ' ' + fmtDur(s.duration_ns) + (s.open ? ' (open)' : '') + ' span ' + s.id }));
    if (!chain.length) ol.append(el('li', { text: 'span ' + e.span_id }));
    box.append(ol);
  }
  box.append(el('h3', { text: 'Context' }));
  for (let j = Math.max(0, i - 5); j < Math.min(state.rows.length, i + 6); j++) {
    const c = state.rows[j];
    box.append(el('div', { class: 'ctx' + (j === i ? ' me' : ''), text: c.time.slice(11, 26) + ' ' + c.level + ' ' + c.thread + ': ' + c.message }));
  }
}

function initTable() {
  const body = $('table-body');
  body.addEventListener('scroll', () => renderRows());
  $('table-spacer').addEventListener('click', (e) => {
    const r = e.target.closest('.row');
    if (r) { select(Number(r.dataset.i)); $('table').focus(); }
  });
  $('table').addEventListener('keydown', (e) => {
    const page = Math.floor((body.clientHeight || 400) / ROW_H);
    const m = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in m) select(Math.max(0, Math.min(state.rows.length - 1, state.selected + m[e.key])));
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(state.rows.length - 1);
    else if (e.key === 'Enter' && state.selected >= 0) showDetail(state.rows[state.selected], state.selected);
    else return;
    e.preventDefault();
  });
}

/* ---- Filters ----------------------------------------------------------------- */

function readFilters() {
  state.filters = { level: $('f-level').value, text: $('f-text').value.trim(), thread: $('f-thread').value.trim(),
    field: $('f-field').value.trim(), trace: $('f-trace').value.trim(), spans: $('f-spans').checked };
}

function showFilters() {
  const f = state.filters;
  $('f-level').value = f.level; $('f-text').value = f.text; $('f-thread').value = f.thread;
  $('f-field').value = f.field; $('f-trace').value = f.trace; $('f-spans').checked = f.spans;
  showRange();
}

function initFilters() {
  $('filters').addEventListener('submit', (e) => {
    e.preventDefault();
    readFilters();
    writeHash();
    reloadTable();
    loadTicks();
  });
  $('f-level').addEventListener('change', () => $('filters').requestSubmit());
  $('f-spans').addEventListener('change', () => $('filters').requestSubmit());
  $('f-clear').addEventListener('click', () => {
    state.filters = { level: '', text: '', thread: '', field: '', trace: '', spans: false };
    state.since = state.until = null;
    showFilters();
    writeHash();
    reloadTable();
    loadTicks();
  });
  $('f-tail').addEventListener('click', toggleTail);
  if (embedded) $('f-tail').hidden = true;
}

/* Live tail: new events of the source as the server sees them written. */
function toggleTail() {
  if (state.tail) {
    state.tail.close();
    state.tail = null;
    $('live').hidden = true;
    delete $('live').dataset.ready;
    return;
  }
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filterParams())) if (v !== '' && v != null && k !== 'since' && k !== 'until') q.set(k, v);
  if (token) q.set('token', token);
  const es = new EventSource('api/tail?' + q.toString());
  let lost = 0;
  const live = () => state.rows.length + ' events (live' + (lost ? ', ' + lost + ' overwritten before they were seen' : '') + ')';
  es.onmessage = (m) => {
    state.rows.push(JSON.parse(m.data));
    renderRows();
    setStatus(live(), lost > 0);
  };
  /* A process's ring overwrote events between two looks at its mapping:
   * a row says where and how many (at most). */
  es.addEventListener('lost', (m) => {
    const d = JSON.parse(m.data);
    lost += d.overwritten;
    const last = state.rows[state.rows.length - 1];
    state.rows.push({ time: last ? last.time : '', time_ns: last ? last.time_ns : 0, level: 'LOST', pid: d.pid,
      tid: d.tid, thread: d.thread, kind: 'lost', fields: {},
      message: 'up to ' + d.overwritten + ' events of this thread were overwritten before the live tail saw them' });
    renderRows();
    setStatus(live(), true);
  });
  es.addEventListener('ready', () => { $('live').dataset.ready = '1'; });
  es.addEventListener('ended', (m) => {
    es.close();
    if (state.tail === es) { state.tail = null; $('live').hidden = true; }
    setStatus(state.rows.length + ' events — process ' + JSON.parse(m.data).pid + ' has ended', lost > 0);
  });
  es.addEventListener('error', (m) => {
    if (m.data) setStatus('live tail: ' + JSON.parse(m.data).error, true);
    else if (state.tail === es) setStatus('live tail: connection lost, retrying', true);
  });
  state.tail = es;
  $('live').hidden = false;
}

/* ---- Trace waterfall ----------------------------------------------------------- */

function openTrace(id) {
  $('trace-id').value = id;
  showTab('trace');
  loadTrace(id);
}

async function loadTrace(id) {
  const box = $('waterfall');
  box.textContent = '';
  if (!id) return;
  state.traceId = id;
  writeHash();
  try {
    const d = await api('spans', { src: state.src, trace: id });
    const spans = d.spans.slice().sort((a, b) => a.begin_ns - b.begin_ns);
    if (!spans.length) { box.append(el('p', { class: 'hint', text: 'No span of trace ' + id + ' in this source.' })); return; }
    const t0 = Math.min(...spans.map((s) => s.begin_ns));
    const t1 = Math.max(...spans.map((s) => s.end_ns));
    const total = Math.max(1, t1 - t0);
    /* Children under their parents, depth-first. */
    const kids = new Map();
    const ids = new Set(spans.map((s) => s.id));
    for (const s of spans) {
      const p = ids.has(s.parent) ? s.parent : '';
      if (!kids.has(p)) kids.set(p, []);
      kids.get(p).push(s);
    }
    const order = [];
    const walk = (p, depth) => { for (const s of kids.get(p) || []) { order.push([s, depth]); if (order.length < 5000) walk(s.id, depth + 1); } };
    walk('', 0);
    box.append(el('p', null, 'trace ' + id + ': ' + spans.length + ' spans, ' + fmtDur(total) + ', ' +
      new Set(spans.map((s) => s.pid)).size + ' process(es)'));
    for (const [s, depth] of order) {
      const bar = el('div', { class: 'wf-bar' + (s.open ? ' open' : ''), title: s.file + ':' + s.line });
      bar.style.left = ((s.begin_ns - t0) / total) * 100 + '%';
      bar.style.width = (Math.max(s.end_ns - s.begin_ns, 0) / total) * 100 + '%';
      const name = el('div', { class: 'wf-name', text: '\u00a0'.repeat(depth * 3) + s.name + '  — ' + s.pid + ' ' + s.thread });
      box.append(el('div', { class: 'wf-row', 'data-span': s.id }, name, el('div', { class: 'wf-track' }, bar),
        el('div', { class: 'wf-dur', text: fmtDur(s.duration_ns) + (s.open ? ' open' : '') })));
    }
  } catch (err) {
    box.append(el('p', { class: 'error', text: err.message }));
  }
}

/* ---- Metrics ------------------------------------------------------------------- */

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function chart(title, series) {
  const W = 360, H = 150, L = 46, B = 18;
  const pts = series.flatMap((s) => s.points);
  const box = el('div', { class: 'chart' }, el('h4', { text: title }));
  if (!pts.length) return box;
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(0, ...ys);
  const y1 = Math.max(0, ...ys) > y0 ? Math.max(0, ...ys) : y0 + 1; /* the axis always holds 0 */
  const sx = (x) => L + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (W - L - 6) : (W - L) / 2);
  const sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - B - 8);
  const s = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
  s.append(svg('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B }), svg('line', { class: 'axis', x1: L, y1: 4, x2: L, y2: H - B }));
  const t1 = svg('text', { x: 2, y: 12 }); t1.textContent = +y1.toPrecision(4); s.append(t1);
  const t0 = svg('text', { x: 2, y: H - B }); t0.textContent = +y0.toPrecision(4); s.append(t0);
  series.forEach((se, i) => {
    const cls = 's' + (i % 4);
    if (se.points.length === 1) {
      const [x, y] = se.points[0];
      s.append(svg('circle', { cx: sx(x), cy: sy(y), r: 3, class: cls, fill: 'none', 'stroke-width': 2 }));
    } else {
      s.append(svg('polyline', { class: cls, points: se.points.map(([x, y]) => sx(x).toFixed(1) + ',' + sy(y).toFixed(1)).join(' ') }));
    }
    const lab = svg('text', { x: L + 4 + i * 80, y: H - 3, class: cls }); lab.textContent = se.name; s.append(lab);
  });
  box.append(s);
  return box;
}

let metricsGen = 0, crashGen = 0;

async function loadMetrics() {
  const box = $('charts');
  const gen = ++metricsGen;
  try {
    const d = await api('metrics', { src: state.src });
    if (gen !== metricsGen) return; /* a later call draws */
    box.textContent = '';
    const series = new Map();
    for (const p of d.points) {
      for (const m of p.metrics) {
        const key = m.name + JSON.stringify(m.labels) + ' pid ' + p.pid;
        if (!series.has(key)) series.set(key, { m, pts: [] });
        series.get(key).pts.push([p.t, m]);
      }
    }
    if (!series.size) { box.append(el('p', { class: 'hint', text: 'No metrics in this source.' })); return; }
    for (const [key, { m, pts }] of series) {
      const labels = Object.entries(m.labels).map(([k, v]) => k + '=' + v).join(',');
      const title = m.name + (labels ? '{' + labels + '}' : '') + ' (' + m.type + ')';
      let sets;
      if (m.type === 'counter') {
        /* A rate between successive points; one point: the total. */
        const rate = [];
        for (let i = 1; i < pts.length; i++) {
          const dt = (pts[i][0] - pts[i - 1][0]) / 1e9;
          if (dt > 0) rate.push([pts[i][0], (pts[i][1].value - pts[i - 1][1].value) / dt]);
        }
        sets = rate.length ? [{ name: 'per s', points: rate }] : [{ name: 'total ' + pts[0][1].value, points: pts.map(([t, v]) => [t, v.value]) }];
      } else if (m.type === 'gauge') {
        sets = [{ name: 'value', points: pts.filter(([, v]) => v.value != null).map(([t, v]) => [t, v.value]) }];
      } else {
        sets = ['p50', 'p90', 'p99', 'max'].map((q) => ({ name: q, points: pts.filter(([, v]) => v[q] != null).map(([t, v]) => [t, v[q]]) }));
      }
      const c = chart(title, sets);
      c.dataset.metric = key;
      box.append(c);
    }
  } catch (err) {
    box.append(el('p', { class: 'error', text: err.message }));
  }
}

/* ---- Crash ----------------------------------------------------------------------- */

async function loadCrash() {
  const box = $('crash');
  const gen = ++crashGen;
  try {
    const d = await api('crash', { src: state.src });
    if (gen !== crashGen) return;
    box.textContent = '';
    if (!d.files.length) { box.append(el('p', { class: 'hint', text: 'No crash and no stacks in this source.' })); return; }
    for (const f of d.files) {
      box.append(el('h2', { text: f.crashed ? f.signal + ' at address ' + f.address + ' in thread ' + f.thread + ' [' + f.tid + '] of ' + f.executable + ' (pid ' + f.pid + ')' : 'Stacks of ' + f.file + ' (' + f.reason + ')' }));
      if (f.crashed) box.append(el('p', { text: 'signal ' + f.signo + ', code ' + f.code + ' — ' + f.file }));
      for (const st of f.stacks) {
        box.append(el('h3', { text: (st.crash ? 'Backtrace of the crashing thread ' : 'Stack of thread ') + st.thread + ' [' + st.tid + ']' + (st.truncated ? ' (truncated)' : '') }));
        const ol = el('ol', { start: 0, class: 'frames' });
        for (const fr of st.frames) {
          let t = fr.pc + ' in ' + (fr.function || '??');
          if (fr.file) t += ' at ' + fr.file + ':' + fr.line;
          else if (fr.module) t += ' (' + fr.module + '+' + fr.offset + ')';
          for (const i of fr.inlined || []) t += ' — inlined into ' + i.function + (i.file ? ' at ' + i.file + ':' + i.line : '');
          ol.append(el('li', { text: t }));
        }
        box.append(ol);
        if (st.registers.length) {
          const tb = el('table', { class: 'grid regs' });
          for (let i = 0; i < st.registers.length; i += 4) {
            const tr = el('tr');
            for (const r of st.registers.slice(i, i + 4)) tr.append(el('th', { text: r.name }), el('td', { text: r.value }));
            tb.append(tr);
          }
          box.append(el('h3', { text: 'Registers' }), tb);
        }
      }
    }
  } catch (err) {
    box.append(el('p', { class: 'error', text: err.message }));
  }
}

/* ---- SQL ----------------------------------------------------------------------------- */

async function runSql() {
  const box = $('sql-result');
  box.textContent = 'running…';
  try {
    const d = await api('sql', { src: state.src, q: $('sql-text').value });
    box.textContent = '';
    const tb = el('table', { class: 'grid', id: 'sql-grid' });
    tb.append(el('thead', null, el('tr', null, ...d.columns.map((c) => el('th', { text: c })))));
    const body = el('tbody');
    for (const r of d.rows) body.append(el('tr', null, ...r.map((v) => el('td', { text: v == null ? 'NULL' : String(v) }))));
    tb.append(body);
    box.append(el('p', { class: 'hint', text: d.rows.length + ' rows' + (d.truncated ? ' (cut at the row cap)' : '') }), tb);
    for (const e of d.errors) box.append(el('p', { class: 'error', text: e }));
  } catch (err) {
    box.textContent = '';
    box.append(el('p', { class: 'error', text: err.message }));
  }
}

/* ---- Tabs and start-up ---------------------------------------------------------------- */

function showTab(name) {
  state.tab = name;
  for (const b of document.querySelectorAll('#tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const s of document.querySelectorAll('.tab')) s.hidden = s.id !== 'tab-' + name;
  writeHash();
  if (name === 'metrics') loadMetrics();
  if (name === 'crash') loadCrash();
  if (name === 'events') drawTimeline();
}

async function reloadAll() {
  writeHash();
  setStatus('loading…');
  /* The timeline and the first page of the table load side by side. */
  state.ticks = null;
  state.overview = null; /* another source's is of no use */
  await Promise.all([loadTimeline().catch((err) => setStatus(err.message, true)), reloadTable(), loadTicks()]);
  if (state.tab !== 'events') showTab(state.tab);
}

async function start() {
  readHash();
  showFilters();
  initTimeline();
  initTable();
  initFilters();
  $('source').addEventListener('change', (e) => choose(e.target.value));
  $('files-toggle').addEventListener('click', () => {
    const f = $('files');
    f.hidden = !f.hidden;
    $('files-toggle').setAttribute('aria-expanded', String(!f.hidden));
  });
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab));
  $('trace-form').addEventListener('submit', (e) => { e.preventDefault(); loadTrace($('trace-id').value.trim()); });
  $('sql-form').addEventListener('submit', (e) => { e.preventDefault(); runSql(); });
  $('sql-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.ctrlKey) { e.preventDefault(); runSql(); } });
  if (embedded) {
    document.querySelector('#tabs button[data-tab="sql"]').hidden = true;
    document.title = 'ttlog report — ' + (embedded.title || '');
  }
  document.addEventListener('keydown', (e) => {
    if (e.target.matches('input, textarea, select')) return;
    const tabs = { 1: 'events', 2: 'trace', 3: 'metrics', 4: 'crash', 5: 'sql' };
    if (tabs[e.key]) showTab(tabs[e.key]);
    else if (e.key === 'f') $('files-toggle').click();
    else if (e.key === 't') $('timeline').focus();
    else if (e.key === 'e') $('table').focus();
    else if (e.key === '/') { e.preventDefault(); $('f-text').focus(); }
  });
  /* A link pasted or edited in the address bar: show what it names. */
  window.addEventListener('hashchange', async () => {
    const oldSrc = state.src;
    readHash();
    showFilters();
    if (state.src !== oldSrc) {
      $('source').value = state.src;
      state.view = null;
      await reloadAll();
    } else {
      loadTicks();
      await reloadTable();
    }
    showTab(state.tab);
  });
  /* A source named by the link loads with the file list, not after it. */
  const files = loadFiles().then(() => true, (err) => { setStatus(err.message, true); return false; });
  if (state.src != null) {
    const asked = state.src;
    const [ok] = await Promise.all([files, reloadAll()]);
    if (!ok) return;
    if (state.src !== asked) await reloadAll(); /* the link named no such source */
  } else {
    if (!(await files)) return;
    await reloadAll();
  }
  if (state.tab === 'trace' && state.filters.trace) openTrace(state.filters.trace);
}

start();
