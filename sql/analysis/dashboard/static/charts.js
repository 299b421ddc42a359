// charts.js: the DOM and inline-SVG helpers of the journeyd dashboard. Every node is built
// with createElement and text nodes, never innerHTML: report values (campaigns, paths, page
// names) come from visitors and must never become markup.

const SVGNS = 'http://www.w3.org/2000/svg';

function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k == null || k === false) continue;
    el.append(k instanceof Node ? k : String(k));
  }
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k === 'className' ? 'class' : k, v === true ? '' : String(v));
  }
  return el;
}

// h builds an HTML element: h('td', {class: 'num'}, '12').
export function h(tag, attrs, ...kids) {
  return append(setAttrs(document.createElement(tag), attrs), kids);
}

// s builds an SVG element.
export function s(tag, attrs, ...kids) {
  return append(setAttrs(document.createElementNS(SVGNS, tag), attrs), kids);
}

function chart(width, height, label, ...kids) {
  return s('svg', {class: 'chart', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': label}, ...kids);
}

const num = (x) => (typeof x === 'number' && isFinite(x) ? x : Number(x) || 0);

// fmt formats report values for people.
export const fmt = {
  int: (x) => Math.round(num(x)).toLocaleString('en-US'),
  dec: (x, d = 2) => num(x).toLocaleString('en-US', {maximumFractionDigits: d}),
  pct: (x) => (x == null || !isFinite(x) ? '–' : (num(x) * 100).toFixed(num(x) > 0 && num(x) < 0.1 ? 1 : 0) + '%'),
  money: (x) => num(x).toLocaleString('en-US', {minimumFractionDigits: 2, maximumFractionDigits: 2}),
  time: (iso) => (iso ? String(iso).replace('T', ' ').replace(/Z$/, ' UTC') : '–'),
  duration(sec) {
    sec = num(sec);
    if (sec <= 0) return '–';
    if (sec < 90) return `${Math.round(sec)} s`;
    if (sec < 5400) return `${Math.round(sec / 60)} min`;
    if (sec < 172800) return `${(sec / 3600).toFixed(1)} h`;
    return `${(sec / 86400).toFixed(1)} d`;
  },
};

// truncate shortens a label for a chart; the full text goes to a <title> tooltip.
function truncate(text, n) {
  text = String(text);
  return text.length > n ? text.slice(0, n - 1) + '…' : text;
}

// table builds a table from column specs {label, get(row) → text or Node, num, cls(row)}.
export function table(columns, rows, attrs) {
  const head = h('tr', null, columns.map((c) => h('th', {class: c.num ? 'num' : null}, c.label)));
  const body = rows.map((r) => h('tr', null, columns.map((c) =>
    h('td', {class: [c.num ? 'num' : '', c.cls ? c.cls(r) : ''].join(' ').trim() || null}, c.get(r)))));
  return h('div', {class: 'scroll'}, h('table', attrs, h('thead', null, head), h('tbody', null, body)));
}

// cellBar is a small bar for a table cell: share is 0..1.
export function cellBar(share) {
  const w = Math.max(0, Math.min(1, num(share))) * 90;
  return s('svg', {class: 'cellbar', viewBox: '0 0 90 10', 'aria-hidden': 'true'},
    s('rect', {class: 'bar soft', x: 0, y: 0, width: 90, height: 10, rx: 2}),
    s('rect', {class: 'bar', x: 0, y: 0, width: w.toFixed(1), height: 10, rx: 2}));
}

// hbars draws labelled horizontal bars: items [{label, value, text}].
export function hbars(items, title) {
  const max = Math.max(1e-9, ...items.map((i) => num(i.value)));
  const row = 24, width = 560, left = 170, right = 110;
  return chart(width, items.length * row + 4, title, items.map((it, k) => {
    const y = k * row + 2, w = (num(it.value) / max) * (width - left - right);
    return s('g', null,
      s('title', null, `${it.label}: ${it.text}`),
      s('text', {x: left - 8, y: y + 15, 'text-anchor': 'end'}, truncate(it.label, 24)),
      s('rect', {class: 'bar', x: left, y: y + 3, width: Math.max(w, 1).toFixed(1), height: row - 8, rx: 3}),
      s('text', {x: left + w + 6, y: y + 15, class: 'muted'}, it.text));
  }));
}

// histogram draws vertical bars: items [{label, value, text}].
export function histogram(items, title) {
  const max = Math.max(1e-9, ...items.map((i) => num(i.value)));
  const width = 360, height = 180, base = 140, col = width / Math.max(items.length, 1);
  return chart(width, height, title, items.map((it, k) => {
    const bh = (num(it.value) / max) * 110, x = k * col + 6;
    return s('g', null,
      s('title', null, `${it.label}: ${it.text}`),
      s('rect', {class: 'bar', x, y: base - bh, width: col - 12, height: Math.max(bh, 0.5), rx: 3}),
      s('text', {x: x + (col - 12) / 2, y: base - bh - 6, 'text-anchor': 'middle', class: 'small muted'}, it.text),
      s('text', {x: x + (col - 12) / 2, y: base + 18, 'text-anchor': 'middle'}, it.label));
  }), s('text', {x: width / 2, y: height - 1, 'text-anchor': 'middle', class: 'small muted'}, title));
}

function arrow(x1, x2, y) {
  return [s('line', {class: 'arrow', x1, y1: y, x2: x2 - 6, y2: y}),
    s('path', {class: 'arrowhead', d: `M${x2} ${y} l-7 -4 v8 z`})];
}

// funnelChart draws funnel steps [{name, entered, from_first, from_previous, dropped}] as
// bars with the share going on, and the drop-off, between them.
export function funnelChart(steps) {
  const first = Math.max(1, num(steps[0] && steps[0].entered));
  const col = 190, barW = 120, top = 34, hMax = 150, width = steps.length * col;
  return chart(width, top + hMax + 44, 'funnel', steps.map((st, k) => {
    const x = k * col + 10, bh = (num(st.entered) / first) * hMax;
    const g = s('g', null,
      s('title', null, `${st.name}: ${fmt.int(st.entered)} (${fmt.pct(st.from_first)} of step 1)`),
      s('rect', {class: 'bar soft', x, y: top, width: barW, height: hMax, rx: 4}),
      s('rect', {class: 'bar', x, y: top + hMax - bh, width: barW, height: Math.max(bh, 0.5), rx: 4}),
      s('text', {x, y: 14, class: 'small muted'}, `${k + 1}. ${truncate(st.name, 26)}`),
      s('text', {x, y: 29}, `${fmt.int(st.entered)} · ${fmt.pct(st.from_first)}`),
      s('text', {x, y: top + hMax + 18, class: 'small muted'}, k ? `${fmt.pct(st.from_previous)} went on` : 'entered'));
    if (k > 0) {
      g.append(s('text', {x, y: top + hMax + 34, class: 'small drop'}, `−${fmt.int(st.dropped)} dropped`));
      g.append(...arrow(x - col + barW + 6, x - 6, top + hMax / 2));
    }
    return g;
  }));
}

// stageMap draws the journey map: stage boxes [{name, people, from_first, from_previous}]
// with the conversion from one stage to the next on the arrows between them.
export function stageMap(stages) {
  const col = 170, boxW = 128, boxH = 84, y = 24, width = stages.length * col;
  return chart(width, boxH + y + 12, 'journey map', stages.map((st, k) => {
    const x = k * col + 4;
    const g = s('g', null,
      s('title', null, `${st.name}: ${fmt.int(st.people)} people, ${fmt.pct(st.from_first)} of the first stage`),
      s('rect', {class: 'box', x, y, width: boxW, height: boxH, rx: 10}),
      s('text', {x: x + boxW / 2, y: y + 22, 'text-anchor': 'middle'}, truncate(st.name, 18)),
      s('text', {x: x + boxW / 2, y: y + 50, 'text-anchor': 'middle', class: 'big'}, fmt.int(st.people)),
      s('text', {x: x + boxW / 2, y: y + 70, 'text-anchor': 'middle', class: 'small muted'}, `${fmt.pct(st.from_first)} of first`));
    if (k > 0) {
      const x1 = x - col + boxW + 2;
      g.append(...arrow(x1, x - 2, y + boxH / 2));
      g.append(s('text', {x: (x1 + x) / 2, y: y + boxH / 2 - 8, 'text-anchor': 'middle', class: 'small'}, fmt.pct(st.from_previous)));
    }
    return g;
  }));
}

// lineChart draws a metric over time: the current period as a solid line with dots, the
// previous one dashed, so the two read apart without colour. points [{label, value,
// previous}], format formats a value.
export function lineChart(points, format, title, width = 1100) {
  const height = 230, left = 8, right = 8, top = 22, base = 188;
  const max = Math.max(1e-9, ...points.flatMap((p) => [num(p.value), num(p.previous)]));
  const step = points.length > 1 ? (width - left - right) / (points.length - 1) : 0;
  const xy = (k, v) => [left + k * step, base - (num(v) / max) * (base - top)];
  const line = (key) => points.map((p, k) => (k ? 'L' : 'M') + xy(k, p[key]).map((n) => n.toFixed(1)).join(' ')).join(' ');
  const ticks = [...new Set([0, Math.floor((points.length - 1) / 2), points.length - 1])].filter((k) => k >= 0);
  const c = chart(width, height, title,
    s('line', {class: 'axis', x1: left, y1: base, x2: width - right, y2: base}),
    s('text', {x: left, y: 14, class: 'small muted'}, `max ${format(max)}`),
    s('path', {class: 'line previous', d: line('previous')}),
    s('path', {class: 'line current', d: line('value')}),
    points.map((p, k) => {
      const [x, y] = xy(k, p.value);
      return s('circle', {class: 'dot', cx: x.toFixed(1), cy: y.toFixed(1), r: 3},
        s('title', null, `${p.label}: ${format(p.value)} (previous period ${format(p.previous)})`));
    }),
    ticks.map((k) => s('text', {x: xy(k, 0)[0], y: base + 18, class: 'small muted',
      'text-anchor': k === 0 ? 'start' : k === points.length - 1 ? 'end' : 'middle'}, points[k].label)),
    s('line', {class: 'line current', x1: left, y1: height - 8, x2: left + 28, y2: height - 8}),
    s('text', {x: left + 34, y: height - 4, class: 'small'}, 'this period'),
    s('line', {class: 'line previous', x1: left + 130, y1: height - 8, x2: left + 158, y2: height - 8}),
    s('text', {x: left + 164, y: height - 4, class: 'small'}, 'previous period'));
  c.classList.add('fill');
  return c;
}

// flow draws a Sankey-like diagram by hand: columns of nodes [{id, label, value, cls}]
// and links [{from, to, value, cls}] between node ids, each link as wide as its value.
// Every node and link carries its figure as text or a <title>, not only a colour.
export function flow(columns, links, title) {
  const nodeW = 12, gap = 14, pitch = 150;
  columns = columns.map((col) => col.filter((n) => num(n.value) > 0)).filter((col) => col.length);
  const width = Math.max(720, (columns.length - 1) * pitch + 130);
  const nodes = new Map();
  const total = Math.max(1e-9, ...columns.map((col) => col.reduce((a, n) => a + num(n.value), 0)));
  const tallest = Math.max(1, ...columns.map((col) => col.length));
  const height = Math.max(180, Math.min(440, 80 + tallest * 48));
  const scale = (height - 24 - gap * (tallest - 1)) / total;
  const colX = (i) => (columns.length > 1 ? i * (width - nodeW - 120) / (columns.length - 1) : 0);
  const room = Math.floor(((width - nodeW - 120) / Math.max(1, columns.length - 1) - nodeW - 10) / 6.4);
  columns.forEach((col, i) => {
    let y = 12;
    for (const n of col) {
      const hgt = Math.max(2, num(n.value) * scale);
      nodes.set(n.id, {...n, x: colX(i), y, h: hgt, out: 0, in: 0});
      y += hgt + gap;
    }
  });
  const paths = links.filter((l) => nodes.has(l.from) && nodes.has(l.to) && num(l.value) > 0).map((l) => {
    const a = nodes.get(l.from), b = nodes.get(l.to), w = Math.max(1, num(l.value) * scale);
    const y0 = a.y + a.out + w / 2, y1 = b.y + b.in + w / 2;
    a.out += w; b.in += w;
    const x0 = a.x + nodeW, x1 = b.x, mid = (x0 + x1) / 2;
    return s('path', {class: `link ${l.cls || ''}`.trim(), 'stroke-width': w.toFixed(1),
      d: `M${x0.toFixed(1)} ${y0.toFixed(1)} C${mid.toFixed(1)} ${y0.toFixed(1)} ${mid.toFixed(1)} ${y1.toFixed(1)} ${x1.toFixed(1)} ${y1.toFixed(1)}`},
    s('title', null, `${a.label} → ${b.label}: ${fmt.int(l.value)}`));
  });
  const boxes = [...nodes.values()].map((n) => {
    const x = n.x + nodeW + 5, y = n.y + Math.min(n.h / 2, 10);
    return s('g', null,
      s('title', null, `${n.label}: ${fmt.int(n.value)}`),
      s('rect', {class: n.cls || 'node', x: n.x.toFixed(1), y: n.y.toFixed(1), width: nodeW, height: n.h.toFixed(1), rx: 2}),
      s('text', {x: x.toFixed(1), y: (y + 2).toFixed(1), class: 'small label'}, truncate(n.label, room)),
      s('text', {x: x.toFixed(1), y: (y + 15).toFixed(1), class: 'small strong'}, fmt.int(n.value)));
  });
  const c = chart(width, height, title, paths, boxes);
  c.classList.add('fill');
  return c;
}
