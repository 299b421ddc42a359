package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/journeyd/journeyd/collector/gen"
	"github.com/journeyd/journeyd/sql/clickhouse"
	"github.com/journeyd/journeyd/sql/writer"
)

// genDirect writes a scenario's events straight into the events table of the database at
// dsn through the batch writer, bypassing the collector and the sessionizer (the scenario
// sets its own session ids). The schema must exist: run `journeyd migrate` first.
func genDirect(ctx context.Context, dsn string, out *gen.Output) error {
	conn, err := clickhouse.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The queue holds the whole run: the events are in memory already.
	w, err := writer.New(conn, writer.Config{Database: reportDatabase(dsn), QueueSize: len(out.Events) + 1})
	if err != nil {
		return err
	}
	werr := w.Write(ctx, out.Events)
	if err := errors.Join(werr, w.Close(ctx)); err != nil {
		return fmt.Errorf("cannot write %d generated events: %w", len(out.Events), err)
	}
	return nil
}
