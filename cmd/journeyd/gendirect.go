package main

import (
	"context"
	"fmt"

	"github.com/journeyd/journeyd/cmd/journeyd/gen"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/writer"
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
	if _, err := writer.WriteAll(ctx, conn, writer.Config{Database: reportDatabase(dsn)}, out.Events); err != nil {
		return fmt.Errorf("cannot write %d generated events: %w", len(out.Events), err)
	}
	return nil
}
