// Package connectors is the explicit table of connector kinds. Adding a
// connector takes a folder, one line here and a passing ingesttest.TestConnector.
package connectors

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/connectors/asana"
	"github.com/throughline/throughline/connectors/csv"
	"github.com/throughline/throughline/connectors/internal/httpretry"
	"github.com/throughline/throughline/connectors/jira"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/internal/config"
)

// Options are the dependencies every connector takes.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// HTTPClient is used by HTTP sources (nil: their default).
	HTTPClient *http.Client
}

// RetryAfterError is the error of an HTTP source's sync that a rate limit
// asked to wait longer than the source's max_retry_after (match it with
// errors.As): the sync stopped instead of waiting.
type RetryAfterError = httpretry.RetryAfterError

type constructor func(src config.Source, loc *time.Location, opt Options) (ingest.Connector, error)

var registry = map[string]constructor{
	"csv":   newCSV,
	"asana": newAsana,
	"jira":  newJira,
}

// Kinds lists the kinds that have a connector.
func Kinds() []string {
	var ks []string
	for k := range registry {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// New builds the connector for a configured source. loc is the time zone of
// zone-less timestamps (the source's own, else the global one).
func New(src config.Source, loc *time.Location, opt Options) (ingest.Connector, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if src.Timezone != "" {
		l, err := time.LoadLocation(src.Timezone)
		if err != nil {
			return nil, fmt.Errorf("source %s: timezone: %w", src.Name, err)
		}
		loc = l
	}
	c, ok := registry[src.Kind]
	if !ok {
		return nil, fmt.Errorf("source %s: kind %q has no connector in this build (available: %s)", src.Name, src.Kind, strings.Join(Kinds(), ", "))
	}
	conn, err := c(src, loc, Options{Logger: opt.Logger.With("source", src.Name), Now: opt.Now, HTTPClient: opt.HTTPClient})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", src.Name, err)
	}
	return conn, nil
}

func newCSV(src config.Source, loc *time.Location, opt Options) (ingest.Connector, error) {
	return csv.New(csv.Config{Layout: src.Layout, Path: src.Path, Columns: src.Columns, StatusIDs: src.StatusIDs, Location: loc},
		csv.Options{Logger: opt.Logger, Now: opt.Now})
}

// newAsana reads the token from the variable token_env names; Asana
// timestamps carry their zone, so loc is unused.
func newAsana(src config.Source, _ *time.Location, opt Options) (ingest.Connector, error) {
	return asana.FromSource(src, asana.Options{Logger: opt.Logger, Now: opt.Now, HTTPClient: opt.HTTPClient})
}

// newJira reads the token from the variable token_env names; Jira
// timestamps carry their offset, so loc is unused.
func newJira(src config.Source, _ *time.Location, opt Options) (ingest.Connector, error) {
	return jira.FromSource(src, jira.Options{Logger: opt.Logger, Now: opt.Now, HTTPClient: opt.HTTPClient})
}
