//go:build race

package writer

// raceEnabled: the race detector allocates behind the code's back, so allocation counts
// are checked only in the plain run of make test.
const raceEnabled = true
