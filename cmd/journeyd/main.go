// Command journeyd is the journeyd binary: the collector server and the tools around it.
// This package only wires: flags and config, subcommands, signals.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of journeyd.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

// register adds a subcommand; each lives in a file of its own and registers in init.
func register(name, summary string, run func(ctx context.Context, args []string) error) {
	commands[name] = command{name: name, summary: summary, run: run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "journeyd: tracking-pixel and customer-journey server\n\nUsage: journeyd COMMAND [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-15s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, `
Run 'journeyd COMMAND -h' for the flags of a command.

Settings not given as flags come from JOURNEYD_* environment variables, then, for every
command but serve, from the file %s in the current directory when it exists:
make run writes there the ClickHouse, config, admin token and link keys of the setup it
started. JOURNEYD_ENV_FILE names another file, or none when empty.
`, devEnvFile)
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if a := os.Args[1]; a == "-h" || a == "-help" || a == "--help" || a == "help" {
		usage()
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "journeyd: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	// serve is told its settings explicitly (deploy/run.sh passes them): a server does not
	// pick up a development setup because it was started from a checkout.
	if cmd.name != "serve" {
		if err := loadEnvFile(envFilePath()); err != nil {
			fmt.Fprintf(os.Stderr, "journeyd %s: %v\n", cmd.name, err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, os.Args[2:]); err != nil {
		switch {
		case errors.Is(err, flag.ErrHelp): // -h: the help was asked for and printed
			return
		case errors.Is(err, errUsage): // called wrongly: the usage was printed
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "journeyd %s: %v\n", cmd.name, err)
		os.Exit(1)
	}
}
