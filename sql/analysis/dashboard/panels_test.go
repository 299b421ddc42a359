package dashboard

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/journeyd/journeyd/sql/analysis/report"
)

// TestDashboardPanels holds report.DashboardPanels (what journeyd serve warms and
// bench-reports times) to the requests the page sends when it opens with its defaults: the
// options are read here from app.js (its constants, literal options and fallbacks) and
// index.html (each form field's value or first option), so that a default changed in the
// page and not in the list fails here rather than leaving the warmed days unread.
func TestDashboardPanels(t *testing.T) {
	app := string(get(t, "GET", "/dashboard/app.js").Body())
	page := string(get(t, "GET", "/dashboard/").Body())
	find := func(what, text, expr string) string {
		t.Helper()
		m := regexp.MustCompile(expr).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("%s: no match of %s", what, expr)
		}
		return m[1]
	}
	// A field's default: an input's value, or a select's first option (its value, else its text).
	field := func(id string) string {
		t.Helper()
		if v := regexp.MustCompile(`<input id="` + id + `"[^>]* value="([^"]*)"`).FindStringSubmatch(page); v != nil {
			return v[1]
		}
		opt := find("field "+id, page, `(?s)<select id="`+id+`"[^>]*>\s*(<option[^>]*>[^<]*)</option>`)
		if v := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(opt); v != nil {
			return v[1]
		}
		return opt[strings.Index(opt, ">")+1:]
	}
	list := func(name string) string { // a const NAME = ['a', 'b'] as a,b
		t.Helper()
		items := regexp.MustCompile(`'([^']*)'`).FindAllStringSubmatch(find(name, app, `const `+name+` = \[([^\]]*)\]`), -1)
		var out []string
		for _, it := range items {
			out = append(out, it[1])
		}
		return strings.Join(out, ",")
	}
	var dims []string
	for _, m := range regexp.MustCompile(`data-dim="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if m[1] != "page" {
			dims = append(dims, m[1])
		}
	}
	// The steps: the field is empty until init sets DEFAULT_STEPS; window and lookback fall
	// back to their input's value; the model picker's first option is the one init adds first.
	steps := find("DEFAULT_STEPS", app, `const DEFAULT_STEPS = '([^']+)'`)
	if init := find("init's steps", app, `\$\('steps'\)\.value = ([A-Z_]+);`); init != "DEFAULT_STEPS" {
		t.Fatalf("init sets the steps to %s, not DEFAULT_STEPS", init)
	}
	funnel := map[string]string{"steps": steps, "window": field("window"), "per": field("per")}
	if fallback := find("window fallback", app, `window: \$\('window'\)\.value\.trim\(\) \|\| '([^']+)'`); fallback != funnel["window"] {
		t.Errorf("app.js falls back to window %s, index.html's default is %s", fallback, funnel["window"])
	}
	want := [][]report.Panel{
		{
			{Name: "overview", Opts: optsOf(map[string]string{"interval": field("interval")})},
			{Name: "top", Opts: map[string]string{"dimension": strings.Join(dims, ","), "top": find("top lists", app, `dimension: dims\.join\(','\), top: '(\d+)'`)}},
			{Name: "top", Opts: map[string]string{"dimension": "page", "top": find("top pages", app, `dimension: 'page', top: '(\d+)'`)}},
		},
		{
			{Name: "stages", Opts: optsOf(nil)},
			{Name: "channels", Opts: optsOf(nil)},
			{Name: "time-to-convert", Opts: optsOf(nil)},
			{Name: "barriers", Opts: funnel},
			{Name: "funnel", Opts: funnel},
			{Name: "attribution", Opts: map[string]string{"model": find("model", app, `\$\('model'\)\.append\(h\('option', \{value: '([^']+)'\}`),
				"by": field("attr-by"), "lookback": field("lookback")}},
			{Name: "paths", Opts: map[string]string{"top": find("paths", app, `fetchReport\('paths', \{top: '(\d+)'\}`)}},
			{Name: "retention", Opts: map[string]string{"cohort": field("cohort"), "within": list("RETENTION_WINDOWS")}},
		},
	}
	// The literal calls the panels make: stages, channels and time-to-convert with no options
	// of their own, the funnel's two with its opts, retention with its windows.
	for _, call := range []string{`fetchReport('stages', {}`, `fetchReport('channels', {}`, `fetchReport('time-to-convert', {}`,
		`fetchReport('barriers', opts`, `fetchReport('funnel', opts`, `fetchReport('retention', {cohort, within: RETENTION_WINDOWS.join(',')}`} {
		if !strings.Contains(app, call) {
			t.Errorf("app.js no longer calls %s...: check report.DashboardPanels against it and update this test", call)
		}
	}
	if got, w := fmt.Sprint(normalize(report.DashboardPanels)), fmt.Sprint(normalize(want)); got != w {
		t.Errorf("report.DashboardPanels:\n%s\nthe page's defaults:\n%s", got, w)
	}
}

// optsOf returns opts without its empty values (the page sends interval= for auto, which
// the API reads as no interval), nil when none is left.
func optsOf(opts map[string]string) map[string]string {
	var out map[string]string
	for k, v := range opts {
		if v != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// normalize returns panels with empty option maps as nil, so that fmt prints both alike.
func normalize(panels [][]report.Panel) [][]report.Panel {
	out := make([][]report.Panel, len(panels))
	for i, g := range panels {
		for _, p := range g {
			out[i] = append(out[i], report.Panel{Name: p.Name, Opts: optsOf(p.Opts)})
		}
	}
	return out
}
