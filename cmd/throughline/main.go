// Command throughline syncs work data into a DuckDB warehouse, computes flow
// metrics and serves them to Prometheus. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/internal/sqlworker"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError marks errors that exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

const usage = `throughline — flow, delivery and capacity analytics for Jira, Asana and CSV work data

Usage:
  throughline demo     [--listen ADDR] [--dir DIR] [--once]
  throughline init     [--config FILE]
  throughline sync     [--config FILE] [--source NAME] [--full]
  throughline compute  [--config FILE]
  throughline serve    [--config FILE]
  throughline sql      [--config FILE] [--format table|csv|json] [--out FILE] "SELECT …"
  throughline forecast [--config FILE] [--milestone NAME] [--date YYYY-MM-DD]
  throughline plan     [--config FILE] --items N | --hours H [--team T] [--project P] [--start YYYY-MM-DD] [--due YYYY-MM-DD] [--format table|json]
  throughline check    [--config FILE]
  throughline dashboards [--config FILE] [--out DIR]
  throughline backfill [--config FILE] --out FILE [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--job NAME] [--instance ADDR] [--label NAME=VALUE]
  throughline export   [--config FILE] --dir DIR [--format parquet|csv] [--raw]
  throughline version

Every command takes --log-format text|json and --log-level debug|info|warn|error.
Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
`

func main() {
	// The SQL API's worker processes are this program again.
	if sqlworker.IsWorker() {
		os.Exit(sqlworker.Main())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type command func(ctx context.Context, g *globals, args []string) error

var commands = map[string]command{
	"demo":     runDemo,
	"init":     runInit,
	"sync":     runSync,
	"compute":  runCompute,
	"serve":    runServe,
	"sql":      runSQL,
	"check":    runCheck,
	"forecast": runForecast,
	"plan":     runPlan,
	"version":  runVersion,

	"dashboards": runDashboards,
	"backfill":   runBackfill,
	"export":     runExport,
}

// globals are what every command gets.
type globals struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	logFormat      string
	logLevel       string
	now            func() time.Time // the clock of commands that read it (backfill)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runAt(ctx, args, stdout, stderr, time.Now)
}

// runAt is run with a clock (tests).
func runAt(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "throughline: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	g := &globals{stdout: stdout, stderr: stderr, now: now}
	err := cmd(ctx, g, args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "throughline %s: %v\n", args[0], err)
	var ue usageError
	var ce *config.Error
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return exitUsage
	}
	return exitRuntime
}

// flags makes a flag set with the common logging flags.
func (g *globals) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(g.stderr)
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	return fs
}

func (g *globals) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return usagef("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "text":
		g.logger = slog.New(slog.NewTextHandler(g.stderr, opts))
	case "json":
		g.logger = slog.New(slog.NewJSONHandler(g.stderr, opts))
	default:
		return usagef("--log-format %q: want text or json", g.logFormat)
	}
	return nil
}

func runVersion(_ context.Context, g *globals, args []string) error {
	fs := g.flags("version")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	b := build()
	fmt.Fprintf(g.stdout, "throughline %s (revision %s, %s)\n", b.Version, b.Revision, b.GoVersion)
	return nil
}

type buildInfo struct{ Version, Revision, GoVersion string }

func build() buildInfo {
	b := buildInfo{Version: Version, Revision: "unknown", GoVersion: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b.GoVersion = bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				b.Revision = s.Value
			}
		}
	}
	return b
}

func runInit(_ context.Context, g *globals, args []string) error {
	fs := g.flags("init")
	path := fs.String("config", "throughline.yaml", "config file to write")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	f, err := os.OpenFile(*path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usagef("%s exists; remove it or pass --config with another name", *path)
	}
	if err != nil {
		return fmt.Errorf("write starter config: %w", err)
	}
	if _, err := io.WriteString(f, config.Sample); err != nil {
		f.Close()
		return fmt.Errorf("write starter config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write starter config: %w", err)
	}
	fmt.Fprintf(g.stdout, "wrote %s: edit sources and teams, then run `throughline check --config %s`\n", *path, *path)
	return nil
}
