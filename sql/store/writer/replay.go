package writer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/event"
)

// TransientReasons are the dead-letter reasons worth a replay as they are: the events were
// good, ClickHouse was away or slow until the shutdown deadline. Rows ClickHouse rejected
// (rejected, bad_row) fail again unless the schema or the data was fixed first.
var TransientReasons = []string{reasonShutdown, reasonNetwork, reasonOverloaded, reasonServer, reasonOther}

// ReplayResult counts what Replay did with the lines of a dead-letter file.
type ReplayResult struct {
	Replayed    int      // events of the reasons asked for, handed to the writer again
	FailedAgain int      // of those, the ones dead-lettered again (in cfg.DeadLetterPath)
	Skipped     int      // lines whose reason was not asked for
	Malformed   []string // lines that are not DeadLetter JSON, as "line N: why"
}

// Replay reads dead-letter lines from r and inserts the events of the lines whose reason is
// in reasons through a writer configured by cfg (usually with its own DeadLetterPath, where
// the rows that fail again go). A malformed line is skipped and named in the result: a
// truncated last line after a crash costs that line only. The error is the writer's, when
// it could not insert everything before ctx ended.
func Replay(ctx context.Context, conn driver.Conn, cfg Config, r io.Reader, reasons []string) (ReplayResult, error) {
	var res ReplayResult
	var batch []event.Event
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 16<<20) // an event is at most a few hundred KB
	for line := 1; s.Scan(); line++ {
		if len(s.Bytes()) == 0 {
			continue
		}
		var dl DeadLetter
		if err := json.Unmarshal(s.Bytes(), &dl); err != nil {
			res.Malformed = append(res.Malformed, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		if !slices.Contains(reasons, dl.Reason) {
			res.Skipped++
			continue
		}
		batch = append(batch, dl.Event)
	}
	if err := s.Err(); err != nil {
		return res, fmt.Errorf("cannot read the dead-letter lines: %w", err)
	}
	res.Replayed = len(batch)
	var err error
	res.FailedAgain, err = WriteAll(ctx, conn, cfg, batch)
	return res, err
}
