// person.js: one person's journey (GET /api/v1/person) as a timeline: their sessions with
// where they came from, each touchpoint in order, conversions marked in words, not colour.
import {h, fmt} from './charts.js';

const count = (n, noun) => `${fmt.int(n)} ${noun}${n === 1 ? '' : 's'}`;

// personView draws journey j: a summary line, then one group per session (or outside any
// session) with its touchpoints in time order.
export function personView(j) {
  const sessions = new Map((j.sessions || []).map((s) => [s.session_id, s]));
  const revenue = (j.conversions || []).reduce((a, c) => a + (c.revenue || 0), 0);
  const groups = [];
  for (const tp of j.touchpoints || []) {
    const key = tp.session_id || '';
    if (!groups.length || groups[groups.length - 1].key !== key) groups.push({key, items: []});
    groups[groups.length - 1].items.push(tp);
  }
  const what = (tp) => (tp.type === 'pageview' ? `viewed ${tp.path}` : `${tp.type}${tp.name ? ' ' + tp.name : ''}`);
  return h('div', {class: 'person'},
    h('p', null, h('strong', {class: 'person-id'}, j.person), ` · ${count((j.sessions || []).length, 'session')} · `,
      `${count((j.conversions || []).length, 'conversion')} · revenue ${fmt.money(revenue)}`,
      (j.anon_ids || []).length ? h('span', {class: 'muted'}, ` · anonymous ids ${j.anon_ids.join(', ')}`) : ''),
    h('ol', {class: 'timeline'}, groups.map((g) => {
      const s = sessions.get(g.key);
      const head = g.key ? `Session from ${s?.channel || 'Direct'}${s?.source ? ' (' + s.source + ')' : ''}${s?.campaign ? ', campaign ' + s.campaign : ''}` +
        `${s?.device ? ' · ' + s.device : ''}${s?.country ? ' · ' + s.country : ''}` : 'Outside any session';
      return h('li', {class: 'session'}, h('h3', null, head), h('ul', null, g.items.map((tp) => h('li', {class: tp.conversion ? 'tp conversion' : 'tp'},
        h('time', null, fmt.time(tp.ts)), ' ', what(tp),
        tp.conversion ? h('strong', {class: 'conv'}, ` ★ conversion${tp.revenue ? ' ' + fmt.money(tp.revenue) : ''}`) : ''))));
    })));
}
