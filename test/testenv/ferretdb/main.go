// Command ferretdb runs FerretDB v1 as a MongoDB-protocol server for the DCM's tests and local
// runs, with its PostgreSQL backend (-postgresql-url) or its SQLite backend (-data-dir). It embeds
// the ferretdb package because a plain `go install` of FerretDB's own command panics on a version
// file missing from the module.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL: use the PostgreSQL backend")
	dataDir := flag.String("data-dir", "", "directory for the SQLite databases (SQLite backend)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if (*postgresqlURL == "") == (*dataDir == "") {
		fmt.Fprintln(os.Stderr, "ferretdb: exactly one of -postgresql-url and -data-dir is required")
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb: -log-level:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Logger: logger}
	where := ""
	if *postgresqlURL != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = *postgresqlURL
		where = "PostgreSQL backend"
	} else {
		dir, err := filepath.Abs(*dataDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ferretdb:", err)
			os.Exit(1)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + dir + "/"
		where = "SQLite backend, data in " + dir
	}

	// FerretDB v1 decodes every document a sort, a skip or a count reads (JSON with its type
	// schema) in this process: at 10,000 documents a third of that time was the garbage collector
	// at its default (GOGC=100). Collect less often unless GOGC says otherwise (docs/database.md).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}

	f, err := ferretdb.New(config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s, %s\n", *listen, where)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}
