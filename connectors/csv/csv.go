// Package csv is the reference connector: it reads a folder in Throughline's
// own CSV layout, or the vendors' own exports (Jira "Export CSV", Asana
// project CSV). Copy this folder to write a new connector.
package csv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// Layouts the connector reads.
const (
	LayoutThroughline = "throughline"
	LayoutJiraExport  = "jira-export"
	LayoutAsanaExport = "asana-export"
)

// Config is the csv source configuration.
type Config struct {
	Layout string
	Path   string
	// Columns maps canonical items.csv columns to the headers of the file.
	Columns  map[string]string
	Location *time.Location // zone of zone-less timestamps
	// BatchItems bounds the items in one batch (default 50,000).
	BatchItems int
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("path is required")
	}
	switch c.Layout {
	case LayoutThroughline, LayoutJiraExport, LayoutAsanaExport:
	default:
		return fmt.Errorf("layout %q unknown", c.Layout)
	}
	for k := range c.Columns {
		if !slices.Contains(itemColumns, k) && k != "started_at" {
			return fmt.Errorf("columns: %q is not an items.csv column (want one of %s, started_at)", k, strings.Join(itemColumns, ", "))
		}
	}
	return nil
}

// Options are the dependencies every connector takes.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Connector reads CSV files.
type Connector struct {
	cfg    Config
	logger *slog.Logger
	now    func() time.Time
}

var _ ingest.Connector = (*Connector)(nil)

// New validates cfg and returns a connector.
func New(cfg Config, opt Options) (*Connector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.BatchItems <= 0 {
		cfg.BatchItems = 50_000
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Connector{cfg: cfg, logger: opt.Logger, now: opt.Now}, nil
}

// cursor records what was read: each file's content hash. While an import of
// the throughline layout is in progress it also records the target hashes and
// how many items are committed, so a killed import resumes where it stopped.
type cursor struct {
	Files   map[string]string `json:"files,omitempty"`
	Target  map[string]string `json:"target,omitempty"`
	Done    int               `json:"done,omitempty"`
	Version int               `json:"v"`
}

func parseCursor(c ingest.Cursor) (cursor, error) {
	var cur cursor
	if c == "" {
		return cursor{Files: map[string]string{}}, nil
	}
	if err := json.Unmarshal([]byte(c), &cur); err != nil {
		return cur, fmt.Errorf("csv cursor %.40q: %w", string(c), err)
	}
	if cur.Files == nil {
		cur.Files = map[string]string{}
	}
	return cur, nil
}

func (c cursor) encode() ingest.Cursor {
	c.Version = 1
	b, _ := json.Marshal(c)
	return ingest.Cursor(b)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Sync reads what changed since from.
func (c *Connector) Sync(ctx context.Context, from ingest.Cursor, emit func(context.Context, ingest.Batch) error) error {
	cur, err := parseCursor(from)
	if err != nil {
		return err
	}
	switch c.cfg.Layout {
	case LayoutThroughline:
		return c.syncFolder(ctx, cur, emit)
	default:
		return c.syncExports(ctx, cur, emit)
	}
}

// syncExports reads vendor export files: one file is one batch.
func (c *Connector) syncExports(ctx context.Context, cur cursor, emit func(context.Context, ingest.Batch) error) error {
	files, err := exportFiles(c.cfg.Path)
	if err != nil {
		return err
	}
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := filepath.Base(path)
		sum, err := hashFile(path)
		if err != nil {
			return fmt.Errorf("hash %s: %w", path, err)
		}
		if cur.Files[name] == sum {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open export: %w", err)
		}
		var b ingest.Batch
		opt := parseOptions{Location: c.cfg.Location}
		if c.cfg.Layout == LayoutJiraExport {
			b, err = parseJiraExport(name, f, opt)
		} else {
			b, err = parseAsanaExport(name, f, opt)
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s export: %w", c.cfg.Layout, err)
		}
		c.logger.Debug("read export", "file", name, "items", len(b.Items), "problems", len(b.Problems))
		next := cursor{Files: maps(cur.Files)}
		next.Files[name] = sum
		b.Cursor = next.encode()
		b.Reread = []string{name}
		if err := emit(ctx, b); err != nil {
			return err
		}
		cur = next
	}
	return nil
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func exportFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("csv source path: %w", err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	matches, err := filepath.Glob(filepath.Join(path, "*.csv"))
	if err != nil {
		return nil, err
	}
	slices.Sort(matches)
	if len(matches) == 0 {
		return nil, fmt.Errorf("csv source path %s: no *.csv files", path)
	}
	return matches, nil
}
