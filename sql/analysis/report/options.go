package report

import "sort"

// optionReports names the reports that read each report-specific option. An option not
// listed here (the period, and any filter) applies to every report.
var optionReports = map[string][]string{
	"steps":      {"funnel", "barriers"},
	"window":     {"funnel", "barriers"},
	"per":        {"funnel", "barriers"},
	"exclude":    {"funnel", "barriers"},
	"strict":     {"funnel", "barriers"},
	"by":         {"funnel", "barriers", "attribution", "paths", "time-to-convert"},
	"conversion": {"attribution", "paths", "time-to-convert", "retention", "channels", "overview", "top"},
	"model":      {"attribution"},
	"lookback":   {"attribution", "paths", "time-to-convert"},
	"top":        {"paths", "next", "dropped", "top"},
	"after":      {"next"},
	"did":        {"dropped"},
	"not":        {"dropped"},
	"cohort":     {"retention"},
	"return":     {"retention"},
	"within":     {"retention", "dropped"},
	"dimension":  {"top"},
	"interval":   {"overview"},
}

// Options returns the names of the options report name reads (see OptionNames), sorted:
// those of every report and its own. `journeyd report NAME` offers exactly these as flags.
func Options(name string) []string {
	var out []string
	for opt := range OptionNames {
		reports, specific := optionReports[opt]
		if !specific {
			out = append(out, opt)
			continue
		}
		for _, r := range reports {
			if r == name {
				out = append(out, opt)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// CommonOptions returns the options every report reads, sorted.
func CommonOptions() []string {
	var out []string
	for opt := range OptionNames {
		if _, specific := optionReports[opt]; !specific {
			out = append(out, opt)
		}
	}
	sort.Strings(out)
	return out
}
