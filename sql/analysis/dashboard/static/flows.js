// flows.js: the journey map and the paths to conversion as flow diagrams (charts.js's flow),
// built from the stages, top and paths reports' rows.
import {flow} from './charts.js';

// pathFlow draws the converting paths as a flow: column k holds the k-th touchpoints, and
// every path ends in the conversion; paths longer than four keep their last four touches.
export function pathFlow(rows) {
  const depth = Math.min(4, Math.max(...rows.map((r) => String(r.path).split(' > ').length)));
  const columns = Array.from({length: depth + 1}, () => new Map());
  const links = new Map();
  let total = 0;
  for (const r of rows) {
    const touches = String(r.path).split(' > ').slice(-depth);
    const ids = touches.map((t, k) => `${k}:${t}`).concat('conversion');
    touches.forEach((t, k) => {
      const n = columns[k].get(ids[k]) || {id: ids[k], label: t, value: 0};
      n.value += r.conversions;
      columns[k].set(ids[k], n);
    });
    total += r.conversions;
    ids.slice(1).forEach((to, k) => {
      const key = ids[k] + '→' + to;
      links.set(key, {from: ids[k], to, value: (links.get(key)?.value || 0) + r.conversions});
    });
  }
  columns[depth].set('conversion', {id: 'conversion', label: 'conversion', value: total, cls: 'node goal'});
  return flow(columns.map((c) => [...c.values()].sort((a, b) => b.value - a.value)), [...links.values()], 'paths to conversion');
}

// stageFlow draws the journey map as a flow: the channels people came from feed the first
// stage, each stage flows into the next with the people who went on, and the rest leave.
export function stageFlow(stages, channels) {
  const first = stages[0].people || 0;
  const reach = channels.reduce((a, c) => a + c.people, 0) || 1;
  const columns = [], links = [];
  if (channels.length && first) {
    columns.push(channels.map((c) => ({id: 'ch:' + c.value, label: c.value, value: c.people, cls: 'node source'})));
    for (const c of channels) links.push({from: 'ch:' + c.value, to: 'st:1', value: (c.people / reach) * first});
  }
  stages.forEach((st, k) => {
    const col = [{id: 'st:' + st.stage, label: `${st.name}`, value: st.people, cls: 'stage'}];
    if (k > 0) {
      const left = Math.max(0, stages[k - 1].people - st.people);
      if (left > 0) col.push({id: 'left:' + k, label: `left after ${stages[k - 1].name}`, value: left, cls: 'sink'});
      links.push({from: 'st:' + stages[k - 1].stage, to: 'st:' + st.stage, value: st.people});
      links.push({from: 'st:' + stages[k - 1].stage, to: 'left:' + k, value: left, cls: 'leave'});
    }
    columns.push(col);
  });
  return flow(columns, links, 'journey map flow');
}
