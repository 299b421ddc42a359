package report

import "io"

// ShowingSQL returns a Runner like r that writes its queries to w instead of running them.
func ShowingSQL(r *Runner, w io.Writer) *Runner {
	return &Runner{DB: r.DB, ShowSQL: w, EventsOnly: r.EventsOnly}
}
