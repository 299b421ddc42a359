// app.js: the journeyd journey dashboard. It reads the settings (site, period, filters,
// each panel's options), calls GET /api/v1/reports/NAME (and /api/v1/person) for each
// panel, and draws the answers with charts.js. The whole view lives in the URL's hash, so
// a link (or a reload) reproduces it; the admin token stays in sessionStorage (typed once
// per browser session, gone when the tab closes); the site is remembered in localStorage.
import {h, fmt, table, cellBar, hbars, histogram, funnelChart, stageMap, lineChart} from './charts.js';
import {pathFlow, stageFlow} from './flows.js';
import {personView} from './person.js';

const API = '/api/v1/reports';
const MODELS = ['first', 'last', 'last_non_direct', 'linear', 'time_decay', 'position', 'markov', 'shapley'];
const DEFAULT_STEPS = 'pageview:/product/*,event:add_to_cart,event:checkout,conversion';
const RETENTION_WINDOWS = ['7d', '14d', '30d', '60d', '90d'];
const DAY = 86400000;
const METRICS = [
  {key: 'visitors', label: 'Visitors', format: fmt.int}, {key: 'sessions', label: 'Sessions', format: fmt.int},
  {key: 'conversions', label: 'Conversions', format: fmt.int},
  {key: 'conversion_rate', label: 'Conversion rate', format: fmt.pct}, {key: 'revenue', label: 'Revenue', format: fmt.money},
];

const $ = (id) => document.getElementById(id);
const store = {
  get: (k, d = '') => { try { return localStorage.getItem('journeyd.' + k) ?? d; } catch { return d; } },
  set: (k, v) => { try { localStorage.setItem('journeyd.' + k, v); } catch { /* private mode */ } },
};

// The view's state that the URL keeps: form fields by id, plus the filter, the chosen
// metric and the person shown.
const FIELDS = ['site', 'from', 'to', 'interval', 'steps', 'window', 'per', 'model', 'attr-by', 'lookback', 'cohort', 'compare'];
const state = {filter: [], metric: 'visitors', person: ''};

function saveURL() {
  const q = new URLSearchParams();
  for (const id of FIELDS) if ($(id).value) q.set(id, $(id).value);
  if (state.filter.length) q.set('filter', filterString());
  if (state.metric !== 'visitors') q.set('metric', state.metric);
  if (state.person) q.set('person', state.person);
  history.replaceState(null, '', '#' + q);
}

function loadURL() {
  const q = new URLSearchParams(location.hash.slice(1));
  for (const id of FIELDS) if (q.has(id)) $(id).value = q.get(id);
  state.filter = parseFilter(q.get('filter') || '');
  state.metric = q.get('metric') || 'visitors';
  state.person = q.get('person') || '';
  return q;
}

// Filters are terms {key, not, value}; the API reads them as KEY=VALUE;KEY!=VALUE.
function filterString() {
  return state.filter.map((t) => `${t.key}${t.not ? '!=' : '='}${t.value}`).join(';');
}

function parseFilter(text) {
  return text.split(';').filter((p) => p.includes('=')).map((p) => {
    const i = p.indexOf('=');
    const key = p.slice(0, i);
    return {key: key.replace(/!$/, ''), not: key.endsWith('!'), value: p.slice(i + 1)};
  });
}

function addFilter(key, value) {
  state.filter = state.filter.filter((t) => t.key !== key).concat({key, not: false, value});
  changed();
}

function drawFilters() {
  $('filters').replaceChildren(...(state.filter.length ? state.filter.map((t, i) => h('span', {class: 'chip filter'},
    `${t.key} ${t.not ? '≠' : '='} ${t.value} `,
    h('button', {type: 'button', class: 'remove', 'aria-label': `remove filter ${t.key}`, title: 'remove this filter',
      onclick: () => { state.filter.splice(i, 1); changed(); }}, '×'))) : [h('span', {class: 'muted'}, 'none: click a row to add one')]));
}

// ReportError is a failed API call, with a message for the analyst.
class ReportError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function explain(status, detail) {
  switch (status) {
    case 403: return 'The admin token is not allowed to read reports (403).';
    case 404: return `Not found (404): ${detail || 'is the site id right?'}`;
    case 400: return `The report options are not valid (400): ${detail}`;
    case 504: return 'The report took too long (504): try a shorter period.';
  }
  return `The server answered ${status}${detail ? ': ' + detail : ''}`;
}

function settings() {
  const to = new Date(Date.parse($('to').value) + DAY); // the API's "to" is exclusive
  return {site: $('site').value.trim(), from: $('from').value, to: isNaN(to) ? '' : to.toISOString().slice(0, 10)};
}

// signIn asks for the token once: a 401 from any panel shows one message and the token box,
// and every panel waits for the next Show instead of showing an error of its own.
let authFailed = false;
function signIn(message) {
  authFailed = true;
  $('token-field').hidden = false;
  $('signout').hidden = true;
  $('status').textContent = message;
  $('status').classList.add('error');
  for (const ac of Object.values(running)) ac.abort();
  for (const el of document.querySelectorAll('.panel.loading')) el.classList.remove('loading');
}

function signedIn() {
  const token = sessionStorage.getItem('journeyd.token') || '';
  $('token-field').hidden = !!token;
  $('signout').hidden = !token;
  return token;
}

async function getJSON(url, signal) {
  const token = sessionStorage.getItem('journeyd.token') || '';
  if (!token) throw new ReportError(401, 'Enter the admin token above to load the reports.');
  let res;
  try {
    res = await fetch(url, {headers: {Authorization: 'Bearer ' + token}, signal, cache: 'no-store'});
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ReportError(0, `Cannot reach journeyd (${e.message}): is the server running?`);
  }
  const text = await res.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* not JSON: a proxy's error page */ }
  if (res.ok && body) return body;
  if (res.status === 401) {
    signIn('The server refused this admin token (401): enter the admin token above, then Show.');
    throw new ReportError(401, 'signed out');
  }
  throw new ReportError(res.status, explain(res.status, (body && body.error) || text.trim().slice(0, 300)));
}

// kept holds each panel's report rows for its CSV export, by the panel's abort signal.
const kept = new WeakMap();

// fetchReport calls one report for the current site, period and filter with extra options.
async function fetchReport(name, opts, signal) {
  const {site, from, to} = settings();
  if (!site) throw new ReportError(0, 'Enter a site id above.');
  const q = new URLSearchParams({site, from, to, ...opts});
  if (state.filter.length && !('filter' in opts)) q.set('filter', filterString());
  if (q.get('filter') === '') q.delete('filter');
  const body = await getJSON(`${API}/${encodeURIComponent(name)}?${q}`, signal);
  kept.get(signal)?.push({name, body});
  return body;
}

const empty = (what) => h('p', {class: 'muted'}, `No ${what} in this period.`);

function errorBox(err) {
  return h('div', {class: 'error-box', role: 'alert'}, h('strong', null, 'Cannot load: '), err.message);
}

// panels: each reads its options from its own form and returns the node to show.
const panels = {
  overview: loadOverview, stages: loadStages, channels: loadChannels, ttc: loadTimeToConvert, funnel: loadFunnel,
  attribution: loadAttribution, paths: loadPaths, retention: loadRetention,
};
for (const el of document.querySelectorAll('[data-dim]')) panels[el.id] = (signal) => loadTop(el.dataset.dim, signal);
const running = {};
const exports = {};

async function run(id) {
  running[id]?.abort();
  const ac = new AbortController();
  running[id] = ac;
  const reports = [];
  kept.set(ac.signal, reports);
  const el = $(id), body = el.querySelector('.body');
  el.classList.add('loading');
  el.setAttribute('aria-busy', 'true');
  if (!body.firstChild) body.append(h('p', {class: 'muted'}, 'Loading…'));
  try {
    const node = await panels[id](ac.signal);
    if (!ac.signal.aborted) {
      body.replaceChildren(node);
      exports[id] = reports;
    }
  } catch (e) {
    if (authFailed) body.replaceChildren(h('p', {class: 'muted'}, 'Waiting for the admin token.'));
    else if (e.name !== 'AbortError' && !ac.signal.aborted) body.replaceChildren(errorBox(e));
  } finally {
    if (running[id] === ac || authFailed) {
      el.classList.remove('loading');
      el.removeAttribute('aria-busy');
    }
  }
}

// runAll loads the overview and the top lists first, alone, so that what the analyst looks
// at first is not slowed by the heavier panels below (the server has few cores); the rest
// start once those are drawn.
let generation = 0;
async function runAll() {
  authFailed = false;
  topShared?.ac.abort();
  topShared = null;
  $('status').textContent = '';
  $('status').classList.remove('error');
  const gen = ++generation;
  const first = Object.keys(panels).filter((id) => id === 'overview' || id.startsWith('top-'));
  if (state.person) showPerson(state.person);
  await Promise.allSettled(first.map(run));
  if (gen !== generation || authFailed) return;
  for (const id of Object.keys(panels)) if (!first.includes(id)) run(id);
}

// changed redraws everything after the site, period or filter changed.
function changed() {
  drawFilters();
  saveURL();
  runAll();
}

// csvRows flattens the JSON a report answered into CSV lines: one table per array of rows
// (attribution's models each give their rows, with the model named).
function csvRows(reports) {
  const lines = [];
  const cell = (v) => {
    const t = Array.isArray(v) ? v.join(' ') : v == null ? '' : String(v);
    return /[",\n]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
  };
  for (const {name, body} of reports) {
    for (const [table, rows] of Object.entries(body || {})) {
      if (!Array.isArray(rows)) continue;
      const flat = rows.flatMap((r) => (Array.isArray(r.rows) ? r.rows.map((x) => ({model: r.model, ...x})) : [r]));
      if (!flat.length) continue;
      const cols = [...new Set(flat.flatMap((r) => Object.keys(r)))];
      lines.push(['report', 'table', ...cols].join(','));
      for (const r of flat) lines.push([name, table, ...cols.map((c) => cell(r[c]))].join(','));
    }
  }
  return lines.join('\n') + '\n';
}

function downloadCSV(id) {
  const text = csvRows(exports[id] || []);
  const a = h('a', {href: URL.createObjectURL(new Blob([text], {type: 'text/csv'})), download: `journeyd-${$('site').value}-${id}.csv`});
  document.body.append(a);
  a.click();
  a.remove();
}

async function loadOverview(signal) {
  const res = await fetchReport('overview', {interval: $('interval').value}, signal);
  const totals = res.totals || [], series = res.series || [];
  if (!totals.length) return empty('visits');
  const metric = METRICS.find((m) => m.key === state.metric) || METRICS[0];
  const cards = h('div', {class: 'kpis'}, METRICS.map((m) => {
    const t = totals.find((r) => r.metric === m.key) || {};
    const change = t.change == null ? 'no previous figure' : `${t.change > 0 ? '▲ +' : t.change < 0 ? '▼ ' : '= '}${fmt.pct(Math.abs(t.change)).replace(/^/, t.change < 0 ? '−' : '')} vs previous`;
    return h('button', {type: 'button', class: 'kpi', 'data-metric': m.key, 'aria-pressed': String(m.key === metric.key),
      onclick: () => { state.metric = m.key; saveURL(); run('overview'); }},
    h('span', {class: 'kpi-label'}, m.label), h('strong', {class: 'kpi-value'}, m.format(t.value)),
    h('span', {class: `kpi-change ${t.change > 0 ? 'up' : t.change < 0 ? 'down' : ''}`}, change),
    h('span', {class: 'muted small'}, `previous ${m.format(t.previous)}`));
  }));
  const points = series.map((r) => ({label: r.start, value: r[metric.key], previous: r['previous_' + metric.key]}));
  const width = Math.max(360, Math.min(1100, $('overview').clientWidth - 32)); // text stays legible on a phone
  return h('div', null, cards, lineChart(points, metric.format, `${metric.label} over time`, width),
    h('details', null, h('summary', null, 'The figures as a table'), table([
      {label: 'Start', get: (r) => r.start},
      ...METRICS.flatMap((m) => [{label: m.label, num: true, get: (r) => m.format(r[m.key])},
        {label: 'previous', num: true, get: (r) => m.format(r['previous_' + m.key])}]),
    ], series)));
}

// The top lists share two requests: every session dimension in one (the top report reads
// the events once for all of them), and the pages; runAll starts them afresh.
let topShared = null;
function sharedTop() {
  if (!topShared) {
    const ac = new AbortController();
    const dims = [...document.querySelectorAll('[data-dim]')].map((el) => el.dataset.dim).filter((d) => d !== 'page');
    topShared = {ac, sessions: fetchReport('top', {dimension: dims.join(','), top: '10'}, ac.signal),
      pages: fetchReport('top', {dimension: 'page', top: '10'}, ac.signal)};
    topShared.sessions.catch(() => {});
    topShared.pages.catch(() => {});
  }
  return topShared;
}

// loadTop draws one top list; each row is a button that filters the dashboard by its value.
async function loadTop(dim, signal) {
  const shared = sharedTop();
  const body = await (dim === 'page' ? shared.pages : shared.sessions);
  const rows = [...(body.top || []), ...(body.pages || [])].filter((r) => r.dimension === dim);
  kept.get(signal)?.push({name: 'top', body: {[dim === 'page' ? 'pages' : 'top']: rows}});
  if (!rows.length) return empty('visits');
  const max = Math.max(1, ...rows.map((r) => r.people));
  return table([
    {label: dim.replace('_', ' '), cls: () => 'wrap', get: (r) => h('button', {type: 'button', class: 'link filter-link', 'data-value': r.value,
      title: `show only ${dim} = ${r.value}`, onclick: () => addFilter(dim, String(r.value))}, String(r.value))},
    {label: 'People', num: true, get: (r) => fmt.int(r.people)},
    {label: '', get: (r) => cellBar(r.people / max)},
    dim === 'page' ? {label: 'Views', num: true, get: (r) => fmt.int(r.pageviews)}
      : {label: 'Conv.', num: true, get: (r) => fmt.int(r.conversions)},
  ], rows, {class: 'top'});
}

async function loadChannels(signal) {
  const rows = (await fetchReport('channels', {}, signal)).channels || [];
  if (!rows.length) return empty('sessions');
  const max = Math.max(...rows.map((r) => r.sessions));
  return table([
    {label: 'Channel', get: (r) => r.channel},
    {label: 'Sessions', num: true, get: (r) => fmt.int(r.sessions)},
    {label: '', get: (r) => cellBar(r.sessions / max)},
    {label: 'People', num: true, get: (r) => fmt.int(r.people)},
    {label: 'Conversions', num: true, get: (r) => fmt.int(r.conversions)},
    {label: 'Conv. rate', num: true, get: (r) => fmt.pct(r.sessions ? r.conversions / r.sessions : null)},
    {label: 'Revenue', num: true, get: (r) => fmt.money(r.revenue)},
  ], rows);
}

async function loadTimeToConvert(signal) {
  const res = await fetchReport('time-to-convert', {}, signal);
  const bars = (rows, unit) => (rows || []).map((r) => ({label: r[unit], value: r.conversions, text: fmt.pct(r.share)}));
  const days = bars(res.days, 'days'), touches = bars(res.touchpoints, 'touchpoints');
  if (!days.some((d) => d.value)) return empty('conversions');
  return h('div', {class: 'two'}, histogram(days, 'days to convert'), histogram(touches, 'touchpoints before converting'));
}

async function loadFunnel(signal) {
  const steps = $('steps').value.trim() || DEFAULT_STEPS;
  const opts = {steps, window: $('window').value.trim() || '7d', per: $('per').value};
  // Barriers first: its read holds the overall funnel too, and the funnel asked while it
  // runs is answered by it (the server reads the events once for both).
  const [barriers, funnel] = await Promise.allSettled(
    [fetchReport('barriers', opts, signal), fetchReport('funnel', opts, signal)]);
  if (funnel.status === 'rejected') throw funnel.reason;
  const rows = (funnel.value.funnel || []).filter((r) => r.segment === '' || r.segment == null);
  if (!rows.length || !rows[0].entered) return empty('people entering the first step');
  const list = h('div', {id: 'dropped-list'});
  const who = (r, i) => (i + 1 < rows.length
    ? h('button', {type: 'button', class: 'link who', title: `people who did ${r.name} and not ${rows[i + 1].name} within ${opts.window}`,
      onclick: () => showDropped(list, r.name, rows[i + 1].name, opts.window)}, 'who dropped here')
    : '');
  return h('div', null, funnelChart(rows), table([
    {label: 'Step', get: (r) => `${r.step}. ${r.name}`},
    {label: 'Entered', num: true, get: (r) => fmt.int(r.entered)},
    {label: 'From first', num: true, get: (r) => fmt.pct(r.from_first)},
    {label: 'From previous', num: true, get: (r) => fmt.pct(r.from_previous)},
    {label: 'Dropped', num: true, get: (r) => (r.step > 1 ? fmt.int(r.dropped) : '')},
    {label: 'Median time from previous', num: true, get: (r) => (r.step > 1 ? fmt.duration(r.median_seconds) : '')},
    {label: 'To the next step', get: (r) => who(r, rows.indexOf(r))},
  ], rows), list, h('h3', null, 'Barriers: where segments fall furthest below the step’s overall rate'),
  barriers.status === 'rejected' ? errorBox(barriers.reason) : barrierList(barriers.value.barriers || []));
}

// personLink opens the person page of id.
function personLink(id, text = id) {
  return h('a', {href: '#', class: 'person-link', 'data-person': id, onclick: (e) => { e.preventDefault(); openPerson(id); }}, text);
}

// showDropped lists, in el, the people who did step did and not step then within the time
// within after it (the dropped report: each person's latest `did`, once that time has
// passed; unlike the funnel's Dropped column it does not ask for the funnel's first step).
// Each person opens their journey.
let droppedRun = null;
async function showDropped(el, did, then, within) {
  droppedRun?.abort();
  const ac = new AbortController();
  droppedRun = ac;
  const title = h('div', null, h('h3', null, `Who dropped: did ${did}, not ${then} within ${within}, latest first`),
    h('p', {class: 'muted'}, `Each person’s latest ${did}, once ${within} have passed after it; unlike the Dropped ` +
      'column, it does not ask for the funnel’s first step, and a person who went on once but not the last time is listed.'));
  el.replaceChildren(title, h('p', {class: 'muted'}, 'Loading…'));
  try {
    const rows = (await fetchReport('dropped', {did, not: then, within}, ac.signal)).dropped || [];
    if (ac.signal.aborted) return;
    el.replaceChildren(title, rows.length ? table([
      {label: 'Person', get: (r) => personLink(r.person)},
      {label: 'User id', get: (r) => r.user_id || '–'},
      {label: 'Anonymous ids', cls: () => 'wrap', get: (r) => (r.anon_ids || []).join(' ')},
      {label: 'Left at', get: (r) => fmt.time(r.left_at)},
      {label: 'Last seen', get: (r) => fmt.time(r.last_seen)},
      {label: 'Value left', num: true, get: (r) => fmt.money(r.value)},
      {label: 'Last channel', get: (r) => r.last_channel || '–'},
    ], rows, {class: 'dropped'}) : h('p', {class: 'muted'}, 'Nobody dropped here whose window has passed.'));
  } catch (e) {
    if (e.name !== 'AbortError' && !ac.signal.aborted) el.replaceChildren(title, errorBox(e));
  }
}

function barrierList(rows) {
  const top = rows.filter((b) => b.lost >= 1).slice(0, 8);
  if (!top.length) return h('p', {class: 'muted'}, 'No segment falls clearly below the overall rate.');
  return h('ol', {class: 'barriers'}, top.map((b) => h('li', null,
    h('strong', null, `${b.dimension} = ${b.segment || '(none)'}`), ` at step ${b.step} (${b.name}): `,
    `${fmt.pct(b.rate)} went on against ${fmt.pct(b.overall_rate)} overall, `,
    h('span', {class: 'lost'}, `${fmt.int(b.lost)} people lost`), ` of ${fmt.int(b.previous)}`)));
}

async function loadAttribution(signal) {
  const model = $('model').value;
  const res = await fetchReport('attribution', {model, by: $('attr-by').value, lookback: $('lookback').value.trim() || '30d'}, signal);
  const models = res.models || [];
  if (!models.some((m) => (m.rows || []).length)) return empty('conversions with touchpoints');
  if (models.length === 1) return oneModel(models[0]);
  return compareModels(models);
}

function oneModel(m) {
  const rows = [...m.rows].sort((a, b) => b.conversions - a.conversions);
  const bars = hbars(rows.map((r) => ({label: r.key, value: r.conversions,
    text: `${fmt.dec(r.conversions, 1)} conv · ${fmt.money(r.value)}`})), `attribution, ${m.model} model`);
  if (m.model !== 'markov') return bars;
  return h('div', null, bars, table([
    {label: 'Channel', get: (r) => r.key},
    {label: 'Removal effect', num: true, get: (r) => fmt.pct(r.removal_effect)},
  ], rows));
}

// compareModels puts the models side by side: one row per key, one column per model.
function compareModels(models) {
  const total = new Map();
  for (const m of models) for (const r of m.rows) total.set(r.key, (total.get(r.key) || 0) + r.conversions);
  const keys = [...total.keys()].sort((a, b) => total.get(b) - total.get(a));
  const cell = (m, key) => m.rows.find((r) => r.key === key);
  const best = (key) => Math.max(...models.map((m) => cell(m, key)?.conversions || 0));
  return table([{label: 'Key', get: (k) => k}, ...models.map((m) => ({
    label: m.model.replaceAll('_', ' '), num: true,
    get: (k) => fmt.dec(cell(m, k)?.conversions || 0, 1),
    cls: (k) => ((cell(m, k)?.conversions || 0) === best(k) && best(k) > 0 ? 'best' : ''),
  }))], keys, {class: 'compare'});
}

async function loadPaths(signal) {
  const rows = (await fetchReport('paths', {top: '20'}, signal)).paths || [];
  if (!rows.length) return empty('converting paths');
  const chips = (path) => String(path).split(' > ').flatMap((p, i) =>
    [i ? h('span', {class: 'sep'}, '›') : null, h('span', {class: 'chip'}, p)]);
  return h('div', null, h('div', {class: 'scroll-x'}, pathFlow(rows)), table([
    {label: 'Path', cls: () => 'wrap', get: (r) => chips(r.path)},
    {label: 'Conversions', num: true, get: (r) => fmt.int(r.conversions)},
    {label: 'Conv. rate', num: true, get: (r) => fmt.pct(r.conversion_rate)},
    {label: 'Median days', num: true, get: (r) => fmt.dec(r.median_days, 1)},
  ], rows));
}

// loadRetention asks once for every return window (one query answers them all, each row
// with its within) and lays the rows out as a cohort grid; a week's people are those of its
// shortest window (a longer one counts only the people whose window has passed).
async function loadRetention(signal) {
  const cohort = $('cohort').value;
  const res = await fetchReport('retention', {cohort, within: RETENTION_WINDOWS.join(',')}, signal);
  const all = (res.retention || []).map((r) => ({r, i: RETENTION_WINDOWS.indexOf(r.within)}))
    .filter((x) => x.i >= 0).sort((a, b) => a.i - b.i);
  const weeks = new Map();
  all.forEach(({r, i}) => {
    const w = String(r.cohort_week).slice(0, 10);
    if (!weeks.has(w)) weeks.set(w, {week: w, people: r.people, rates: []});
    weeks.get(w).rates[i] = r.rate;
  });
  const rows = [...weeks.values()].sort((a, b) => (a.week < b.week ? -1 : 1));
  if (!rows.length) return empty('cohorts');
  return h('div', {class: 'heat'}, table([
    {label: 'Cohort week', get: (r) => r.week},
    {label: 'People', num: true, get: (r) => fmt.int(r.people)},
    ...RETENTION_WINDOWS.map((w, i) => ({label: `within ${w}`,
      cls: (r) => `cell h${Math.min(9, Math.floor((r.rates[i] || 0) * 10))}`,
      get: (r) => fmt.pct(r.rates[i])})),
  ], rows));
}

// loadStages draws the journey map of the filtered people, and beside it, when a second
// segment is given (compare: filter terms added to the filters), that segment's map, with
// both segments' people per stage in one table.
async function loadStages(signal) {
  const compare = parseFilter($('compare').value.trim());
  const other = compare.length ? filterFor(compare) : null;
  const [res, top, cmp] = await Promise.all([fetchReport('stages', {}, signal),
    sharedTop().sessions.catch((e) => (e.name === 'AbortError' ? Promise.reject(e) : {})),
    other === null ? null : fetchReport('stages', {filter: other}, signal)]);
  const rows = res.stages || [];
  if (!rows.length) return empty('stages: define them in the site config');
  const channels = (top.top || []).filter((r) => r.dimension === 'channel').slice(0, 6);
  const map = h('div', {class: 'scroll-x'}, stageFlow(rows, channels));
  if (cmp) return compareStages(rows, map, cmp.stages || [], other);
  return h('div', null, map, table([
    {label: 'Stage', get: (r) => `${r.stage}. ${r.name}`},
    {label: 'People', num: true, get: (r) => fmt.int(r.people)},
    {label: 'From previous', num: true, get: (r) => fmt.pct(r.from_previous)},
    {label: 'Median time to reach', num: true, get: (r) => fmt.duration(r.median_seconds)},
    {label: 'Top channels', cls: () => 'wrap', get: (r) => r.top_channels || '–'},
  ], rows), h('details', null, h('summary', null, 'As a chain of stages'), stageMap(rows)));
}

// filterFor returns the filter of a second segment: the filters with terms replaced or added.
function filterFor(terms) {
  const keys = new Set(terms.map((t) => t.key));
  return state.filter.filter((t) => !keys.has(t.key)).concat(terms)
    .map((t) => `${t.key}${t.not ? '!=' : '='}${t.value}`).join(';');
}

function compareStages(rows, map, other, otherFilter) {
  const byStage = new Map(other.map((r) => [r.stage, r]));
  const a = state.filter.length ? filterString() : 'everyone';
  return h('div', {class: 'compare-stages'},
    h('h3', null, `Segment A: ${a}`), map,
    h('h3', null, `Segment B: ${otherFilter}`),
    other.length ? h('div', {class: 'scroll-x'}, stageFlow(other, [])) : empty('people in segment B'),
    table([
      {label: 'Stage', get: (r) => `${r.stage}. ${r.name}`},
      {label: 'A people', num: true, get: (r) => fmt.int(r.people)},
      {label: 'A from previous', num: true, get: (r) => fmt.pct(r.from_previous)},
      {label: 'B people', num: true, get: (r) => fmt.int(byStage.get(r.stage)?.people || 0)},
      {label: 'B from previous', num: true, get: (r) => fmt.pct(byStage.get(r.stage)?.from_previous)},
    ], rows, {class: 'compare'}));
}

// openPerson shows the journey of person id and keeps it in the URL.
function openPerson(id) {
  state.person = id;
  saveURL();
  showPerson(id);
}

let personRun = null;
async function showPerson(id) {
  personRun?.abort();
  const ac = new AbortController();
  personRun = ac;
  const el = $('person'), body = el.querySelector('.body');
  el.hidden = false;
  el.classList.add('loading');
  el.setAttribute('aria-busy', 'true');
  body.replaceChildren(h('p', {class: 'muted'}, 'Loading…'));
  el.scrollIntoView({block: 'start'});
  try {
    const q = new URLSearchParams({site: settings().site, id});
    const j = await getJSON(`/api/v1/person?${q}`, ac.signal);
    if (ac.signal.aborted) return;
    exports.person = [{name: 'person', body: {touchpoints: j.touchpoints, sessions: j.sessions}}];
    body.replaceChildren(personView(j));
  } catch (e) {
    if (e.name !== 'AbortError' && !ac.signal.aborted) body.replaceChildren(errorBox(e));
  } finally {
    if (personRun === ac) {
      el.classList.remove('loading');
      el.removeAttribute('aria-busy');
    }
  }
}

function setPeriod(days) {
  const today = new Date();
  $('to').value = today.toISOString().slice(0, 10);
  $('from').value = new Date(today - (days - 1) * DAY).toISOString().slice(0, 10);
}

function rememberSite(site) {
  const recent = [site, ...store.get('sites').split(',').filter((x) => x && x !== site)].slice(0, 8);
  store.set('site', site);
  store.set('sites', recent.join(','));
  $('sites').replaceChildren(...recent.map((x) => h('option', {value: x})));
}

function addCSVButtons() {
  for (const el of document.querySelectorAll('.panel')) {
    if (el.id === 'lookup') continue;
    el.querySelector('h2').append(h('button', {type: 'button', class: 'csv', title: 'download this panel as CSV',
      'aria-label': `download ${el.id} as CSV`, onclick: () => downloadCSV(el.id)}, 'CSV'));
  }
}

function bindForms() {
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('token').value.trim();
    if (token) sessionStorage.setItem('journeyd.token', token);
    $('token').value = '';
    signedIn();
    rememberSite($('site').value.trim());
    changed();
  });
  $('signout').addEventListener('click', () => { sessionStorage.removeItem('journeyd.token'); signIn('Signed out: enter the admin token to show the reports.'); });
  $('presets').addEventListener('click', (e) => { if (e.target.dataset.days) { setPeriod(+e.target.dataset.days); changed(); } });
  $('filter-key').addEventListener('change', () => { $('filter-name').hidden = !['prop', 'trait'].includes($('filter-key').value); });
  $('filter-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const k = $('filter-key').value, name = $('filter-name').value.trim();
    if ((k === 'prop' || k === 'trait') && !name) { $('filter-name').focus(); return; }
    addFilter(k === 'prop' || k === 'trait' ? `${k}.${name}` : k, $('filter-value').value.trim());
    $('filter-value').value = '';
  });
  for (const id of ['funnel', 'attribution', 'retention', 'overview', 'stages']) {
    $(id + '-form').addEventListener('submit', (e) => { e.preventDefault(); saveURL(); run(id); });
  }
  for (const [field, panel] of [['model', 'attribution'], ['interval', 'overview']]) {
    $(field).addEventListener('change', () => { saveURL(); run(panel); });
  }
  $('steps-reset').addEventListener('click', () => { $('steps').value = DEFAULT_STEPS; saveURL(); run('funnel'); });
  $('person-close').addEventListener('click', () => { state.person = ''; $('person').hidden = true; saveURL(); });
  $('lookup-form').addEventListener('submit', (e) => { e.preventDefault(); openPerson($('lookup-id').value.trim()); });
}

function init() {
  $('model').append(h('option', {value: 'all'}, 'all (compare)'), ...MODELS.map((m) => h('option', {value: m}, m.replaceAll('_', ' '))));
  $('site').value = new URLSearchParams(location.search).get('site') || store.get('site');
  $('steps').value = DEFAULT_STEPS;
  setPeriod(30);
  loadURL();
  if ($('site').value) rememberSite($('site').value);
  addCSVButtons();
  bindForms();
  drawFilters();
  if ($('site').value && signedIn()) runAll();
  else {
    signedIn();
    $('status').textContent = 'Enter the site id and the admin token, then Show.';
  }
}

init();
