package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/journeyd/journeyd/sql/analysis/journey"
	"github.com/journeyd/journeyd/sql/store/clickhouse"
	"github.com/journeyd/journeyd/sql/store/erase"
)

func init() {
	register("erase", "delete a person's events, sessions and identity links (GDPR / 152-FZ erasure)", runErase)
}

func runErase(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("journeyd erase", flag.ContinueOnError)
	var pf personFlags
	pf.add(fs, "the person: a user id, or an anonymous id")
	yes := fs.Bool("yes", false, "delete; without it erase only prints what it would delete")
	var timeout time.Duration
	durationVar(fs, &timeout, "timeout", 10*time.Minute, "how long to wait for ClickHouse to finish the deletions, a `duration` such as 10m or 1d")
	cluster := fs.String("cluster", "", "the database is laid over this `cluster` (deploy/cluster): delete from the local tables of every shard, through the nodes its remote_servers list")
	collectors := fs.String("collectors", os.Getenv("JOURNEYD_COLLECTORS"), "comma-separated base `URLs` of the running journeyd nodes (e.g. http://10.0.0.5:8080), told to apply the erasure before the rows are deleted (POST /api/v1/erasures/sync, with the admin token of JOURNEYD_ADMIN_TOKEN); nodes not listed apply it within their --erasure-poll (env JOURNEYD_COLLECTORS)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: journeyd erase --site S --person P [--cluster NAME] [--yes]

Erases a person on a site: the events with their user id (every user id an anonymous id P
was linked to, when P is one), the anonymous events of every device linked to them, the
sessions holding those events and their identity links. Another user's events on a shared
device stay. Without --yes it prints what it would delete and changes nothing.

The erasure is final: it first records a tombstone of every id in the erasures table. Every
journeyd reads them (at once when listed in --collectors, else within its --erasure-poll):
its sessionizer forgets the person's links, and events of those ids received before the
erasure are dropped on their way to ClickHouse, so neither events in flight nor a spool
replay after a crash bring them back. Events received after the erasure are new data.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	conn, err := pf.open(ctx, fs, "erase")
	if err != nil {
		return err
	}
	defer conn.Close()
	p, err := erase.Find(ctx, conn, "", pf.site, pf.person)
	if err != nil {
		return err
	}
	if *yes {
		runCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := erase.Mark(runCtx, conn, "", p, time.Now()); err != nil {
			return err
		}
		if err := syncCollectors(runCtx, splitList(*collectors), os.Getenv("JOURNEYD_ADMIN_TOKEN")); err != nil {
			return err
		}
		if *cluster != "" {
			err = erase.RunCluster(runCtx, conn, "", *cluster, p, 200*time.Millisecond, func(ctx context.Context, addr string) (driver.Conn, error) {
				return clickhouse.OpenAt(ctx, pf.dsn, addr)
			})
		} else {
			err = erase.Run(runCtx, conn, "", p, 200*time.Millisecond)
		}
		if err != nil {
			return err
		}
	}
	return writePlan(os.Stdout, p, *yes, pf.format)
}

// writePlan prints what was (done) or would be (!done) erased.
func writePlan(w io.Writer, p *erase.Plan, done bool, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			*erase.Plan
			Erased bool `json:"erased"`
		}{p, done})
	}
	verb := "would erase"
	if done {
		verb = "erased"
	}
	fmt.Fprintf(w, "%s %s on %s: %s, %s, %s\n", verb, p.Person, p.Site, journey.Count(int(p.Events), "event"),
		journey.Count(len(p.Sessions), "session"), journey.Count(int(p.Links), "identity link"))
	fmt.Fprintf(w, "  user ids:      %v\n  anonymous ids: %v\n", p.UserIDs, p.AnonIDs)
	if !done {
		fmt.Fprintln(w, "nothing was deleted: run again with --yes to delete")
	}
	return nil
}

// syncCollectors tells every journeyd at urls to apply the erasures now, and returns once
// each has.
func syncCollectors(ctx context.Context, urls []string, token string) error {
	for _, u := range urls {
		req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(u, "/")+"/api/v1/erasures/sync", nil)
		if err != nil {
			return fmt.Errorf("cannot tell collector %s of the erasure: %w", u, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("cannot tell collector %s of the erasure (nothing was deleted; it applies the erasure within its --erasure-poll, then run erase again): %w", u, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("cannot tell collector %s of the erasure (nothing was deleted; check JOURNEYD_ADMIN_TOKEN, then run erase again): %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
		}
	}
	return nil
}
