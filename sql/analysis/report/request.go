package report

import (
	"github.com/journeyd/journeyd/event/goal"

	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxSteps bounds the steps (and the exclusion steps) of a funnel: each step is a condition
// and an array per person in the query.
const MaxSteps = 20

// Request is one report's parameters, parsed from command-line flags or URL query
// arguments with the same names (see OptionNames).
type Request struct {
	Site       string
	Defs       goal.Definitions
	From, To   time.Time
	Steps      []goal.Step
	Window     time.Duration
	By         []string    // breakdown dimensions
	PerSession bool        // per=session
	Strict     bool        // funnel steps in strict order: no other event in between
	Exclude    []goal.Step // funnel: people who do one of these inside the window are left out
	Conversion goal.Conversion
	Models     []string
	Lookback   time.Duration
	Top        int
	After      goal.Step
	Cohort     string          // cohort event: first_purchase, first_visit or a step
	Return     string          // return event, a step
	Within     time.Duration   // dropped's time, and retention's window when one is given
	Withins    []time.Duration // retention: every return window given (within 7d,14d,30d); none: Within alone
	Did, Not   goal.Step       // dropped: the step people did, and the one they did not do within Within
	limitGiven bool            // top was given (dropped lists more than 20 by default)
	Filter     Filter          // narrows the events every query reads
	Dimensions []string        // top: the dimensions to rank
	Interval   string          // overview: hour, day or week ("" picks one by the period's length)

	db      string    // the database the filter's subqueries read, set by Runner.Run
	current time.Time // overview: the start of the current period when From is the previous one's
}

// OptionNames lists the report options and their help; each is a --flag of `journeyd
// report` and a query argument of /api/v1/reports/NAME.
var OptionNames = map[string]string{
	"from":       "start of the period, YYYY-MM-DD or RFC 3339 (default: 30 days before to)",
	"to":         "end of the period, exclusive (default: now)",
	"steps":      "funnel steps, comma-separated TYPE:TARGET, e.g. 'pageview:/product/*,event:add_to_cart,conversion' (conversion: the site's) (at most " + strconv.Itoa(MaxSteps) + ")",
	"window":     "conversion window of the funnel, e.g. 7d, 12h (default 7d)",
	"by":         "breakdown: device, channel, country, source, medium, campaign, browser, os (barriers: comma-separated)",
	"per":        "count per person (default) or per session",
	"exclude":    "funnel: exclusion steps, comma-separated like steps; people who do one inside the conversion window are left out",
	"strict":     "funnel: true for strict order, no other event between steps (ClickHouse 21.1 or newer)",
	"conversion": "conversion name from the site's config, or an event name (default purchase: an event named purchase, order_paid or Order Completed)",
	"model":      "attribution model: first, last, last_non_direct, linear, time_decay, position, markov, shapley, or all",
	"lookback":   "attribution lookback window (default 30d)",
	"top":        "number of rows of top lists (default 20; dropped: 1000)",
	"after":      "the event whose next steps `next` lists, as a step, e.g. event:add_to_cart",
	"cohort":     "retention cohort event: first_purchase (default), first_visit, or a step",
	"return":     "retention return event, a step (default: the conversion)",
	"within":     "retention: the return window, or several comma-separated (7d,14d,30d: one query answers all, each row with its window); dropped: the time allowed for the not step after the did step (default 7d)",
	"did":        "dropped: the step people did, e.g. event:add_to_cart",
	"not":        "dropped: the step they did not do within the within time after it (default conversion: the site's purchase conversion)",
	"filter":     FilterHelp(),
	"dimension":  "top: what to rank, one or more comma-separated of " + strings.Join(TopDimensions(), ", ") + " (default channel)",
	"interval":   "overview: the time series' buckets, hour, day or week (default: by the period's length)",
}

// ParseRequest builds a Request for site from option values (see OptionNames); the default
// end of the period is the end of now's second, so that what just arrived is included (ts
// is stored in whole seconds). Its errors are *UsageError.
func ParseRequest(site string, defs goal.Definitions, opts map[string]string, now time.Time) (*Request, error) {
	for k := range opts {
		if _, ok := OptionNames[k]; !ok {
			return nil, usageErrorf("unknown option %q: use one of %s", k, strings.Join(optionList(), ", "))
		}
	}
	if site == "" {
		return nil, usageErrorf("no site given: name the site (site ID)")
	}
	r := &Request{Site: site, Defs: defs, To: now.Truncate(time.Second).Add(time.Second), Window: 7 * day, Lookback: 30 * day, Top: 20, Within: 7 * day}
	for _, p := range []func(*Request, map[string]string) error{parsePeriod, parseFunnel, parseOthers, parseOverview, expandConversions} {
		if err := p(r, opts); err != nil {
			return nil, err
		}
	}
	return r, nil
}

const day = 24 * time.Hour

func optionList() []string {
	names := make([]string, 0, len(OptionNames))
	for k := range OptionNames {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func parsePeriod(r *Request, o map[string]string) error {
	var err error
	if v := o["to"]; v != "" {
		if r.To, err = ParseDate(v); err != nil {
			return optionError("to", err)
		}
	}
	r.From = r.To.Add(-30 * day)
	if v := o["from"]; v != "" {
		if r.From, err = ParseDate(v); err != nil {
			return optionError("from", err)
		}
	}
	if !r.From.Before(r.To) {
		return usageErrorf("from %s is not before to %s: the period is empty", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	}
	return nil
}

func parseFunnel(r *Request, o map[string]string) error {
	var err error
	if v := o["steps"]; v != "" {
		if r.Steps, err = parseSteps(v); err != nil {
			return optionError("steps", err)
		}
	}
	if v := o["window"]; v != "" {
		if r.Window, err = ParseDuration(v); err != nil {
			return optionError("window", err)
		}
	}
	if v := o["exclude"]; v != "" {
		if r.Exclude, err = parseSteps(v); err != nil {
			return optionError("exclude", err)
		}
	}
	for _, b := range strings.Split(o["by"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			if _, err := dimension(b); err != nil {
				return optionError("by", err)
			}
			r.By = append(r.By, b)
		}
	}
	switch o["strict"] {
	case "", "false", "0":
	case "true", "1":
		r.Strict = true
	default:
		return usageErrorf("strict %q: use true or false", o["strict"])
	}
	switch o["per"] {
	case "", "person":
	case "session":
		r.PerSession = true
	default:
		return usageErrorf("per %q: use person or session", o["per"])
	}
	return nil
}

func parseOthers(r *Request, o map[string]string) error {
	var err error
	if r.Conversion, err = r.Defs.Conversion(firstNonEmpty(o["conversion"], "purchase")); err != nil {
		return optionError("conversion", err)
	}
	if _, err := r.Conversion.Step(); err != nil {
		return optionError("conversion", err)
	}
	if r.Models, err = ParseModels(firstNonEmpty(o["model"], "all")); err != nil {
		return optionError("model", err)
	}
	if v := o["lookback"]; v != "" {
		if r.Lookback, err = ParseDuration(v); err != nil {
			return optionError("lookback", err)
		}
	}
	if v := o["within"]; v != "" {
		if r.Withins, err = parseWithins(v); err != nil {
			return optionError("within", err)
		}
		r.Within = r.Withins[0]
	}
	if v := o["top"]; v != "" {
		if r.Top, err = strconv.Atoi(v); err != nil || r.Top <= 0 || r.Top > 10000 {
			return usageErrorf("top %q: want a number from 1 to 10000", v)
		}
		r.limitGiven = true
	}
	for _, s := range []struct {
		key, def string
		p        *goal.Step
	}{{"after", "", &r.After}, {"did", "", &r.Did}, {"not", goal.ConversionType, &r.Not}} {
		if v := firstNonEmpty(o[s.key], s.def); v != "" {
			if *s.p, err = goal.ParseStep(v); err != nil {
				return optionError(s.key, err)
			}
		}
	}
	r.Cohort, r.Return = firstNonEmpty(o["cohort"], "first_purchase"), o["return"]
	if _, err := cohortStep(r); err != nil {
		return optionError("cohort", err)
	}
	if _, err := returnStep(r); err != nil {
		return optionError("return", err)
	}
	return nil
}

// expandConversions replaces the conversion steps (conversion, conversion:NAME) of the
// funnel steps, the exclusion, the event to follow and the dropped report's two steps by the
// site's conversion.
func expandConversions(r *Request, _ map[string]string) error {
	var err error
	for _, list := range [][]goal.Step{r.Steps, r.Exclude} {
		for i := range list {
			if list[i], err = r.Defs.Expand(list[i]); err != nil {
				return optionError("steps", err)
			}
		}
	}
	for _, s := range []struct {
		key string
		p   *goal.Step
	}{{"after", &r.After}, {"did", &r.Did}, {"not", &r.Not}} {
		if *s.p, err = r.Defs.Expand(*s.p); err != nil {
			return optionError(s.key, err)
		}
	}
	return nil
}

// parseSteps parses a comma-separated list of at most MaxSteps steps.
func parseSteps(v string) ([]goal.Step, error) {
	steps, err := goal.ParseSteps(v)
	if err == nil && len(steps) > MaxSteps {
		err = fmt.Errorf("%d steps given, at most %d are allowed: leave some out", len(steps), MaxSteps)
	}
	return steps, err
}

// MaxWithins bounds the return windows of one retention request.
const MaxWithins = 20

// parseWithins parses a comma-separated list of distinct durations (see ParseDuration).
func parseWithins(v string) ([]time.Duration, error) {
	parts := strings.Split(v, ",")
	if len(parts) > MaxWithins {
		return nil, fmt.Errorf("%d windows given, at most %d are allowed: leave some out", len(parts), MaxWithins)
	}
	ds := make([]time.Duration, len(parts))
	for i, part := range parts {
		d, err := ParseDuration(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		if j := slices.Index(ds[:i], d); j >= 0 {
			return nil, fmt.Errorf("windows %q and %q are the same %s: give each once", strings.TrimSpace(parts[j]), strings.TrimSpace(part), FormatDuration(d))
		}
		ds[i] = d
	}
	return ds, nil
}

// FormatDuration writes d as ParseDuration reads it, whole days first: 7d, 8d12h, 36h as
// 1d12h, 30m, 90s as 1m30s.
func FormatDuration(d time.Duration) string {
	days, rest := d/day, d%day
	s := ""
	if days > 0 {
		s = strconv.FormatInt(int64(days), 10) + "d"
	}
	if rest > 0 || s == "" {
		r := rest.String() // e.g. 12h0m0s, 1h30m0s, 30m0s, 1m30s
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		s += r
	}
	return s
}

// ParseDate parses YYYY-MM-DD (UTC midnight) or RFC 3339.
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("cannot parse date %q: want YYYY-MM-DD or 2006-01-02T15:04:05Z", s)
	}
	return t, nil
}

// ParseDuration parses a positive duration: a Go duration (36h, 90m), a number of days
// (7d, 1.5d), or days followed by a Go duration (8d12h, 1d30m).
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("cannot parse duration %q: want e.g. 7d, 8d12h, 36h or 30m", s)
	var total time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		d, err := strconv.ParseFloat(days, 64)
		if err != nil || d < 0 || d >= 10000 || strings.ContainsAny(days, "+-eEinfINFxX_") {
			return 0, bad
		}
		total, rest = time.Duration(d*float64(day)), after
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 || strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-") {
			return 0, bad
		}
		total += d
	}
	if total <= 0 {
		return 0, bad
	}
	return total, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// parseOverview reads the filter and the options of the overview and top reports.
func parseOverview(r *Request, o map[string]string) error {
	var err error
	if r.Filter, err = ParseFilter(o["filter"]); err != nil {
		return optionError("filter", err)
	}
	for _, dim := range strings.Split(firstNonEmpty(o["dimension"], "channel"), ",") {
		if dim = strings.TrimSpace(dim); dim == "" || slices.Contains(r.Dimensions, dim) {
			continue
		}
		if _, ok := topColumn(dim); !ok {
			return usageErrorf("dimension %q: use one or more of %s, comma-separated", dim, strings.Join(TopDimensions(), ", "))
		}
		r.Dimensions = append(r.Dimensions, dim)
	}
	switch r.Interval = o["interval"]; r.Interval {
	case "", "hour", "day", "week":
	default:
		return usageErrorf("interval %q: use hour, day or week", r.Interval)
	}
	return nil
}
