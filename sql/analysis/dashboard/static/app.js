// app.js: the journeyd journey dashboard. It reads the settings (site, period, admin token),
// calls GET /api/v1/reports/NAME for each panel, and draws the answers with charts.js.
// The admin token stays in sessionStorage (gone when the tab closes); the site and the
// funnel steps are remembered in localStorage.
import {h, fmt, table, cellBar, hbars, histogram, funnelChart, stageMap} from './charts.js';

const API = '/api/v1/reports';
const MODELS = ['first', 'last', 'last_non_direct', 'linear', 'time_decay', 'position', 'markov', 'shapley'];
const DEFAULT_STEPS = 'pageview:/product/*,event:add_to_cart,event:checkout,conversion';
const RETENTION_WINDOWS = ['7d', '14d', '30d', '60d', '90d'];
const DAY = 86400000;

const $ = (id) => document.getElementById(id);
const store = {
  get: (k, d = '') => { try { return localStorage.getItem('journeyd.' + k) ?? d; } catch { return d; } },
  set: (k, v) => { try { localStorage.setItem('journeyd.' + k, v); } catch { /* private mode */ } },
};

// ReportError is a failed API call, with a message for the analyst.
class ReportError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function explain(status, detail) {
  switch (status) {
    case 401: return 'Enter the admin token above: the server refused this one (401).';
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
  throw new ReportError(res.status, explain(res.status, (body && body.error) || text.trim().slice(0, 300)));
}

// fetchReport calls one report for the current site and period with extra options.
function fetchReport(name, opts, signal) {
  const {site, from, to} = settings();
  if (!site) return Promise.reject(new ReportError(0, 'Enter a site id above.'));
  const q = new URLSearchParams({site, from, to, ...opts});
  return getJSON(`${API}/${encodeURIComponent(name)}?${q}`, signal);
}

const empty = (what) => h('p', {class: 'muted'}, `No ${what} in this period.`);

function errorBox(err) {
  return h('div', {class: 'error-box', role: 'alert'}, h('strong', null, 'Cannot load: '), err.message);
}

// panels: each reads its options from its own form and returns the node to show.
const panels = {
  channels: loadChannels, ttc: loadTimeToConvert, funnel: loadFunnel, attribution: loadAttribution,
  paths: loadPaths, retention: loadRetention, stages: loadStages,
};
const running = {};

async function run(id) {
  running[id]?.abort();
  const ac = new AbortController();
  running[id] = ac;
  const el = $(id), body = el.querySelector('.body');
  el.classList.add('loading');
  if (!body.firstChild) body.append(h('p', {class: 'muted'}, 'Loading…'));
  try {
    const node = await panels[id](ac.signal);
    if (!ac.signal.aborted) body.replaceChildren(node);
  } catch (e) {
    if (e.name !== 'AbortError' && !ac.signal.aborted) body.replaceChildren(errorBox(e));
  } finally {
    if (running[id] === ac) el.classList.remove('loading');
  }
}

function runAll() {
  for (const id of Object.keys(panels)) run(id);
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
  store.set('steps', steps);
  const opts = {steps, window: $('window').value.trim() || '7d', per: $('per').value};
  const [funnel, barriers] = await Promise.allSettled(
    [fetchReport('funnel', opts, signal), fetchReport('barriers', opts, signal)]);
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

// showDropped lists, in el, the people who did step did and not step then within the time
// within after it (the dropped report: each person's latest `did`, once that time has
// passed; unlike the funnel's Dropped column it does not ask for the funnel's first step).
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
      {label: 'Person', get: (r) => r.person},
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
  return table([
    {label: 'Path', cls: () => 'wrap', get: (r) => chips(r.path)},
    {label: 'Conversions', num: true, get: (r) => fmt.int(r.conversions)},
    {label: 'Conv. rate', num: true, get: (r) => fmt.pct(r.conversion_rate)},
    {label: 'Median days', num: true, get: (r) => fmt.dec(r.median_days, 1)},
  ], rows);
}

// loadRetention asks once per return window and joins the answers into a cohort grid.
async function loadRetention(signal) {
  const cohort = $('cohort').value;
  const all = await Promise.all(RETENTION_WINDOWS.map((within) =>
    fetchReport('retention', {cohort, within}, signal).then((r) => r.retention || [])));
  const weeks = new Map();
  all.forEach((rows, i) => rows.forEach((r) => {
    const w = String(r.cohort_week).slice(0, 10);
    if (!weeks.has(w)) weeks.set(w, {week: w, people: r.people, rates: []});
    weeks.get(w).rates[i] = r.rate;
  }));
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

async function loadStages(signal) {
  const rows = (await fetchReport('stages', {}, signal)).stages || [];
  if (!rows.length) return empty('stages: define them in the site config');
  return h('div', null, stageMap(rows), table([
    {label: 'Stage', get: (r) => `${r.stage}. ${r.name}`},
    {label: 'People', num: true, get: (r) => fmt.int(r.people)},
    {label: 'From previous', num: true, get: (r) => fmt.pct(r.from_previous)},
    {label: 'Median time to reach', num: true, get: (r) => fmt.duration(r.median_seconds)},
    {label: 'Top channels', cls: () => 'wrap', get: (r) => r.top_channels || '–'},
  ], rows));
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

function init() {
  $('model').append(h('option', {value: 'all'}, 'all (compare)'), ...MODELS.map((m) => h('option', {value: m}, m.replaceAll('_', ' '))));
  $('site').value = new URLSearchParams(location.search).get('site') || store.get('site');
  $('token').value = sessionStorage.getItem('journeyd.token') || '';
  $('steps').value = store.get('steps', DEFAULT_STEPS);
  setPeriod(30);
  if ($('site').value) rememberSite($('site').value);
  $('settings').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('journeyd.token', $('token').value.trim());
    rememberSite($('site').value.trim());
    $('status').textContent = '';
    runAll();
  });
  $('presets').addEventListener('click', (e) => { if (e.target.dataset.days) { setPeriod(+e.target.dataset.days); runAll(); } });
  for (const id of ['funnel', 'attribution', 'retention']) {
    $(id + '-form').addEventListener('submit', (e) => { e.preventDefault(); run(id); });
  }
  $('model').addEventListener('change', () => run('attribution'));
  $('steps-reset').addEventListener('click', () => { $('steps').value = DEFAULT_STEPS; run('funnel'); });
  if ($('site').value && $('token').value) runAll();
  else $('status').textContent = 'Enter the site id and the admin token, then Show.';
}

init();
