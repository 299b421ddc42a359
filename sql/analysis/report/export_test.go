package report

import "io"

// ReadTopFromEvents makes r's top report read the events (top.sql) even where it could read
// session_aggregates (top_sessions.sql), for tests that compare the two.
func ReadTopFromEvents(r *Runner) { r.rawTop = true }

// ShowingSQL returns a Runner like r that writes its queries to w instead of running them.
func ShowingSQL(r *Runner, w io.Writer) *Runner {
	return &Runner{DB: r.DB, ShowSQL: w, rawTop: r.rawTop}
}
