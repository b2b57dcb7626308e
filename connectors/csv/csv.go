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
	"maps"
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
	// Columns maps canonical items.csv columns to the headers of the file
	// (any layout: for the exports, the header that holds that column).
	Columns map[string]string
	// StatusIDs names the status ids of a Jira export's Time in Status
	// field (id → status name) where the file cannot tell them.
	StatusIDs map[string]string
	Location  *time.Location // zone of zone-less timestamps
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
	allowed := map[string]bool{"started_at": true}
	switch c.Layout {
	case LayoutJiraExport:
		allowed = map[string]bool{}
		for k := range jiraColumns {
			allowed[k] = true
		}
	case LayoutAsanaExport:
		allowed = map[string]bool{}
		for k := range asanaColumns {
			allowed[k] = true
		}
	default:
		for _, k := range itemColumns {
			allowed[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Columns)) {
		if !allowed[k] {
			return fmt.Errorf("columns: %q does not apply to layout %s (want one of %s)", k, c.Layout, strings.Join(slices.Sorted(maps.Keys(allowed)), ", "))
		}
	}
	if len(c.StatusIDs) > 0 && c.Layout != LayoutJiraExport {
		return fmt.Errorf("status_ids applies to layout %s only", LayoutJiraExport)
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

// syncExports reads vendor export files. When any file changed (or one
// was added or removed) every file is read again and the source's content
// is replaced in one batch (a snapshot): a key in several files keeps the
// row updated last, parents are resolved across the files, and a row
// removed from a file leaves the warehouse. The batch and the cursor commit
// together.
func (c *Connector) syncExports(ctx context.Context, cur cursor, emit func(context.Context, ingest.Batch) error) error {
	files, err := exportFiles(c.cfg.Path)
	if err != nil {
		return err
	}
	fp := map[string]string{}
	for _, path := range files {
		sum, err := hashFile(path)
		if err != nil {
			return fmt.Errorf("hash %s: %w", path, err)
		}
		fp[filepath.Base(path)] = sum
	}
	if sameFiles(cur.Files, fp) {
		c.logger.Debug("no file changed", "path", c.cfg.Path)
		return nil
	}
	opt := parseOptions{Location: c.cfg.Location, Columns: c.cfg.Columns, StatusIDs: c.cfg.StatusIDs}
	var jiraFiles []*jiraFile
	var asanaFiles []*asanaFile
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := filepath.Base(path)
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("open export: %w", err)
		}
		if c.cfg.Layout == LayoutJiraExport {
			var jf *jiraFile
			if jf, err = readJiraFile(name, f, opt); err == nil {
				c.logger.Debug("read export", "file", name, "language", jf.lang, "rows", len(jf.rows))
				jiraFiles = append(jiraFiles, jf)
			}
		} else {
			var af *asanaFile
			if af, err = readAsanaFile(name, f, opt); err == nil {
				asanaFiles = append(asanaFiles, af)
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("read %s export: %w", c.cfg.Layout, err)
		}
	}
	var b ingest.Batch
	if c.cfg.Layout == LayoutJiraExport {
		b = jiraBatch(jiraFiles, opt)
	} else {
		b = asanaBatch(asanaFiles)
	}
	c.logger.Debug("read exports", "path", c.cfg.Path, "files", len(files), "items", len(b.Items), "problems", len(b.Problems))
	b.Cursor = cursor{Files: fp}.encode()
	b.Reread = slices.Sorted(keys(fp))
	b.Snapshot = true
	return emit(ctx, b)
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
