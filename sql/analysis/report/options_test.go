package report

import (
	"strings"
	"testing"
)

// TestOptionsPerReport checks the option lists `journeyd report NAME -h` offers: each names
// real options and real reports, the funnel gets its steps but not retention's --within, and
// every report gets the period.
func TestOptionsPerReport(t *testing.T) {
	for opt, reports := range optionReports {
		if _, ok := OptionNames[opt]; !ok {
			t.Errorf("optionReports lists %q, which is not in OptionNames", opt)
		}
		for _, r := range reports {
			if _, err := Lookup(r); err != nil {
				t.Errorf("option %q: %v", opt, err)
			}
		}
	}
	funnel := " " + strings.Join(Options("funnel"), " ") + " "
	for _, want := range []string{" from ", " to ", " steps ", " window ", " by ", " exclude "} {
		if !strings.Contains(funnel, want) {
			t.Errorf("Options(funnel) = %s, lacks%s", funnel, want)
		}
	}
	for _, not := range []string{" within ", " model ", " after "} {
		if strings.Contains(funnel, not) {
			t.Errorf("Options(funnel) = %s, has%s", funnel, not)
		}
	}
	for _, name := range Names() {
		if got := " " + strings.Join(Options(name), " ") + " "; !strings.Contains(got, " from ") || !strings.Contains(got, " to ") {
			t.Errorf("Options(%s) = %s, lacks the period", name, got)
		}
	}
}
