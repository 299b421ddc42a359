// journeyd browser tracker: the readable source of /t.js.
//
// snippet/t.min.js is built from this file by `go generate ./snippet` (esbuild); a test fails
// when the build is stale, and another when it grows past 1.5 KB gzipped. Every byte counts:
// prefer short code over clever code, and keep every entry point behind guard().
//
// Embedding: <script defer src="https://collector/t.js" data-site="shop"></script>
// Options (data attributes of the script tag):
//   data-site        site id (required)
//   data-api         collector URL; default: the script's own origin
//   data-cookieless  set no cookie and no storage; the collector derives the visitor
//   data-consent     send nothing and store nothing until journeyd('consent', true)
//   data-dnt         send nothing when the browser sends Do-Not-Track or Global Privacy Control
//   data-domains     extra internal domains, comma separated (payment pages, other shops)
// Calls, also before the script loads, with the queue stub
//   window.journeyd=window.journeyd||function(){(journeyd.q=journeyd.q||[]).push(arguments)}
//   journeyd('event', name, props)   journeyd('identify', userId, traits)
//   journeyd('consent', true|false)  journeyd('page')
(function (w, d, n, L) {
  try {
    // guard wraps f so that no exception ever reaches the host page.
    var guard = (f) => (...a) => {
      try {
        return f(...a);
      } catch {}
    };
    var on = (o, e, f) => o.addEventListener(e, guard(f), true);
    var now = () => Date.now();
    var rid = () => crypto.getRandomValues(new Uint32Array(4)).join('');

    var script = d.currentScript;
    var { site, api, cookieless, consent: ask, dnt, domains } = script.dataset;
    cookieless = cookieless != null;
    var url = (api || new URL(script.src).origin) + '/e';
    var off = dnt != null && (n.doNotTrack == 1 || n.globalPrivacyControl);
    var internals = (L.hostname + ',' + domains).split(/[\s,]+/);
    var internal = (h) => internals.some((x) => ('.' + h).endsWith('.' + x));

    // Storage: one first-party cookie, _jd, on the widest domain the browser accepts (400
    // days), or localStorage when cookies do not stick. It holds the anonymous id and the
    // session, so that tabs share both. Nothing is written when cookieless or before consent.
    var cget = () => decodeURIComponent(d.cookie.match(/(^|; )_jd=([^;]*)|$/)[2] || '');
    // store writes the cookie on each domain from the shortest up, the host alone last,
    // until it sticks: the browser refuses a public suffix, so the first that sticks is the
    // site's root domain. Where no cookie sticks, localStorage keeps the value.
    var store = (v, age) => {
      for (var h = L.hostname.split('.'), i = h.length; ~i && cget() != v; )
        d.cookie = '_jd=' + encodeURIComponent(v) + ';path=/;SameSite=Lax;max-age=' + age + (i-- ? ';domain=' + h.slice(i).join('.') : '');
      cget() == v || (localStorage._jd = v);
    };
    var load = () => {
      try {
        return JSON.parse(cget() || localStorage._jd);
      } catch {}
    };
    var save = guard(() => cookieless || pending || store(JSON.stringify({ a: aid, s: ses }), 34560000));
    var wipe = guard(() => {
      store('', 0);
      delete localStorage._jd;
    });

    var stored = load();
    var pending = ask != null && !stored;
    var aid = cookieless ? '' : stored?.a || rid();
    var uid = '';

    // The landing source: utm values, a click id, or the host of an external referrer.
    var utm, click;
    new URLSearchParams(L.search).forEach((v, k) => {
      if (/^utm_/.test(k)) (utm ||= {})[k.slice(4)] = v;
      if (/(clk?id|braid|fat_id)$/.test(k)) click = { type: k, id: v };
    });
    var ref = d.referrer;
    var rhost = new URL(ref || L).hostname;
    var src = utm || click ? JSON.stringify([utm, click]) : !internal(rhost) && rhost;

    // session returns [id, last, source, utm, click], shared by the tabs through storage:
    // a new one after 30 minutes idle, or when this page landed from another source than
    // the session's (utm values, click id, external referrer). The sessionizer cuts
    // sessions at 24 hours; the snippet leaves that rare case to it.
    var ses;
    var session = (t) => {
      var s = load()?.s || ses;
      if (!s || t - s[1] > 18e5 || (src && s[2] != src)) s = [rid(), t, src, utm, click];
      src = '';
      s[1] = t;
      ses = s;
      save();
      return s;
    };

    // The queue waits half a second (or until consent) and leaves as one batch. A session
    // changes after 30 idle minutes, long after the queue left, so a batch has one session.
    var queue = [];
    var timer;
    var track = (type, extra) => {
      if (off || queue[99]) return;
      var t = now();
      session(t);
      queue.push({ id: rid(), type, ts: t, url: L.href, ref, title: d.title, ...extra });
      timer ||= setTimeout(flush, 500);
    };
    var flush = guard(() => {
      timer = 0; // a timer still running finds the queue empty
      var s = ses;
      if (pending || !queue[0]) return;
      var events = queue;
      queue = [];
      var sid = cookieless ? '' : s[0];
      var body = JSON.stringify({ site, aid, sid, uid, sent: now(), utm: s[3], click: s[4], events });
      // A beacon, else fetch with keepalive, else (full build) one pixel per event. A
      // rejected fetch must be caught, or the console would show it.
      n.sendBeacon(url, body) ||
        fetch(url, { method: 'POST', body, keepalive: true, mode: 'no-cors' }).catch(
          FULL
            ? guard(() =>
                events.map((e) => {
                  var q = new URLSearchParams({ s: site, t: e.type, n: e.name || '', u: e.url, r: e.ref, a: aid, sid, uid, ti: e.title, id: e.id, ts: e.ts });
                  for (var k in e.props) q.set('p.' + k, e.props[k]);
                  new Image().src = url.slice(0, -1) + 'p.gif?' + q;
                })
              )
            : now
        );
    });

    // Page views (single-page apps included) and the engaged time of each.
    var last;
    var shown;
    var engaged = 0;
    var tick = () => {
      if (shown) engaged += now() - shown;
      shown = !d.hidden && now();
    };
    var leave = () => {
      tick();
      if (engaged > 0) track('leave', { url: last, engaged });
      engaged = 0;
    };
    var page = guard((force) => {
      var u = L.href.split('#')[0];
      if (u != last || force) {
        if (last) leave(), (ref = last);
        last = u;
        track('pageview');
      }
    });
    // Chromium fires pagehide and then visibilitychange when a page goes: the page stops
    // counting at the first, so that the second sends no leave of its own.
    var bye = () => {
      leave();
      shown = 0;
      flush();
    };
    // link reports outbound links and file downloads; the beacon outlives the page.
    var link = (ev) => {
      var a = (!FULL || ev.button < 2) && ev.target.closest('a');
      var dl = /\.(pdf|zip|docx?|xlsx?|csv|mp[34]|dmg|exe|apk)$/i.test(a.pathname);
      if (dl || (a.host && !internal(a.hostname))) track('event', { name: dl ? 'download' : 'outbound', props: { url: a.href } }), flush();
    };

    var calls = {
      event: (name, props) => track('event', { name, props, ...(props?.revenue && { revenue: +props.revenue, currency: props.currency }) }),
      identify: (id, props) => track('identify', { props, uid: (uid = id + '') }),
      consent: (yes) => ((pending = !yes) ? ((queue = []), wipe()) : (save(), flush())),
      page: () => page(1),
    };
    var q = w.journeyd?.q;
    var jd = (w.journeyd = guard((c, a, b) => calls[c](a, b)));
    tick();
    page();
    q?.map((a) => jd(...a));
    // Single-page apps: a look at the URL twice a second sees pushState, replaceState,
    // popstate and hash routes alike, for fewer bytes than wrapping the history API.
    setInterval(page, 500);
    on(w, 'pagehide', bye);
    on(d, 'visibilitychange', () => (d.hidden ? bye() : tick()));
    on(d, 'click', link);
    FULL && on(d, 'auxclick', link);
  } catch {}
})(window, document, navigator, location);
