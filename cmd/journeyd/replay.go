package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/store/erase"
	"github.com/journeyd/journeyd/sql/store/writer"
)

func init() {
	register("replay", "insert the events of a dead-letter file again (after an outage or a fix)", runReplay)
}

func runReplay(ctx context.Context, args []string) error {
	var file, again, reasons string
	var timeout time.Duration
	cfg, _, err := loadCommandConfig("replay", args, []string{"clickhouse", "batch-size"}, func(fs *flag.FlagSet) {
		fs.StringVar(&file, "file", "", "the dead-letter file to replay (required)")
		fs.StringVar(&again, "again", "", "where the rows that fail again go [FILE.again]")
		fs.StringVar(&reasons, "reasons", strings.Join(writer.TransientReasons, ","), "comma-separated reasons to replay, or all (rejected and bad_row fail again unless the schema or the data was fixed)")
		durationVar(fs, &timeout, "timeout", 10*time.Minute, "how long to keep retrying ClickHouse, a `duration` such as 10m or 1d")
	}, func(w io.Writer) {
		fmt.Fprintf(w, "Usage: journeyd replay --file FILE [--reasons R,R|all] [--again FILE]\n\nInserts the events of a dead-letter file into ClickHouse again; those that fail again go to --again.\n")
	})
	if err != nil {
		return err
	}
	if file == "" {
		return fmt.Errorf("--file is required, e.g. journeyd replay --file journeyd-dead-letter.jsonl")
	}
	if again == "" {
		again = file + ".again"
	}
	want := strings.Split(reasons, ",")
	if reasons == "all" {
		want = append(writer.TransientReasons, "rejected", "bad_row")
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("cannot replay: %w", err)
	}
	defer f.Close()
	conn, db, err := openClickHouse(ctx, cfg.ClickHouse)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fmt.Fprintf(os.Stderr, "replay: inserting the events of %s with reasons %s into %s.events (retrying ClickHouse for up to %s)\n",
		file, strings.Join(want, ","), db, timeout)
	lines, erased, err := withoutErased(ctx, conn, db, f)
	if err != nil {
		return err
	}
	res, err := writer.Replay(ctx, conn, writer.Config{Database: db, BatchSize: cfg.BatchSize, DeadLetterPath: again}, lines, want)
	fmt.Printf("replayed %d events of %s into %s.events (%d failed again, in %s); skipped %d lines of other reasons and %d events of erased people\n",
		res.Replayed, file, db, res.FailedAgain, again, res.Skipped, erased)
	for _, m := range res.Malformed {
		fmt.Printf("malformed, skipped: %s\n", m)
	}
	switch {
	case err != nil:
		return err
	case res.FailedAgain > 0 || len(res.Malformed) > 0:
		return fmt.Errorf("%d events failed again and %d lines were malformed", res.FailedAgain, len(res.Malformed))
	}
	return nil
}

// withoutErased returns the dead-letter lines of r without those whose event an erasure
// took (journeyd erase: the person's events received before it), and how many it left out,
// so that a replay brings no erased event back. Lines it cannot decode stay, for Replay to
// report.
func withoutErased(ctx context.Context, conn driver.Conn, db string, r io.Reader) (io.Reader, int, error) {
	ts, err := erase.Load(ctx, conn, db)
	if err != nil {
		return nil, 0, fmt.Errorf("cannot replay without knowing the erasures (journeyd migrate creates their table): %w", err)
	}
	g, err := erase.NewGuard(nil, erase.GuardConfig{})
	if err != nil {
		return nil, 0, err
	}
	g.Set(ts)
	var kept bytes.Buffer
	erased := 0
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 16<<20) // as writer.Replay reads them
	for s.Scan() {
		var dl writer.DeadLetter
		if json.Unmarshal(s.Bytes(), &dl) == nil && g.Erased(&dl.Event) {
			erased++
			continue
		}
		kept.Write(s.Bytes())
		kept.WriteByte('\n')
	}
	if err := s.Err(); err != nil {
		return nil, 0, fmt.Errorf("cannot read the dead-letter lines: %w", err)
	}
	return &kept, erased, nil
}
