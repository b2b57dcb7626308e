package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics"
)

// backfillBlockDuration is the --max-block-duration suggested to promtool:
// it picks 486h blocks (under Prometheus's own 31-day compaction limit)
// instead of one 2h block per day of history.
const backfillBlockDuration = "486h"

func runBackfill(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("backfill")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	out := fs.String("out", "", "OpenMetrics file to write (required)")
	sinceFlag := fs.String("since", "", "first day to write, YYYY-MM-DD in the config time zone (default: the day before the first event)")
	untilFlag := fs.String("until", "", "write the days before this one, YYYY-MM-DD (the last sample is at its local midnight), e.g. the day Prometheus began scraping (default: when serve first ran on this warehouse; latest: 3 hours ago)")
	job := fs.String("job", "throughline", "the job label of the scrape config that scrapes Throughline (backfilled and scraped samples must be one series)")
	instance := fs.String("instance", "", "the instance label Prometheus gives Throughline (default: server.listen of the config)")
	var extra labelFlags
	fs.Var(&extra, "label", "another target label of the scrape config, NAME=VALUE (repeatable)")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out FILE is required, e.g. throughline backfill --out history.om")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	now := g.now()
	labels := map[string]string{"job": *job, "instance": *instance}
	if *instance == "" {
		labels["instance"] = cfg.Server.Listen
	}
	for _, l := range extra {
		labels[l[0]] = l[1]
	}
	opt := metrics.BackfillOptions{Location: cfg.Location, Now: now, Labels: labels}
	if *sinceFlag != "" {
		if opt.Since, err = time.ParseInLocation(time.DateOnly, *sinceFlag, cfg.Location); err != nil {
			return usagef("--since %q: want YYYY-MM-DD", *sinceFlag)
		}
	}
	if *untilFlag != "" {
		u, err := time.ParseInLocation(time.DateOnly, *untilFlag, cfg.Location)
		if err != nil {
			return usagef("--until %q: want YYYY-MM-DD", *untilFlag)
		}
		// Until is exclusive: keep the sample at u that closes the day before.
		opt.Until = u.Add(time.Millisecond)
		if latest := now.Add(-metrics.BackfillHoldOff); latest.Before(opt.Until) {
			opt.Until = latest
		}
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && !opt.Since.Before(opt.Until) {
		return usagef("--since %s is not before the end of the backfill (%s)", *sinceFlag, opt.Until.In(cfg.Location).Format(time.DateTime))
	}
	db, err := openComputed(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	// Write next to the target and rename: a failed run leaves no half file.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".backfill-*.om")
	if err != nil {
		return fmt.Errorf("open --out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("open --out: %w", err)
	}
	st, err := metrics.Backfill(ctx, db.DB, tmp, opt)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", *out, cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	g.logger.Debug("backfill written", "file", *out, "families", st.Families, "series", st.Series, "samples", st.Samples)

	loc := cfg.Location
	if st.Samples == 0 {
		fmt.Fprintf(g.stdout, "wrote %s: no samples before %s (sync and compute first, or move --since back); nothing to import\n",
			*out, st.Until.In(loc).Format(time.DateTime))
		return nil
	}
	fmt.Fprintf(g.stdout, "wrote %s: %d families, %d series, %d samples, labelled %s\n", *out, st.Families, st.Series, st.Samples, labelText(labels))
	// A sample at local midnight closes the day before it.
	day := func(t time.Time) string { return t.Add(-time.Millisecond).In(loc).Format(time.DateOnly) }
	fmt.Fprintf(g.stdout, "  range:  days %s .. %s (%s), one sample at the local midnight ending each day; nothing after %s\n",
		day(st.First), day(st.Last), loc, st.Until.Add(-time.Millisecond).In(loc).Format(time.DateTime))
	fmt.Fprintf(g.stdout, "  import: promtool tsdb create-blocks-from openmetrics --max-block-duration=%s %s BLOCKS_DIR\n", backfillBlockDuration, *out)
	fmt.Fprintf(g.stdout, "          then move BLOCKS_DIR/* into Prometheus's --storage.tsdb.path; keep --storage.tsdb.retention.time longer than %d days\n",
		int(now.Sub(st.First).Hours()/24)+1)
	return nil
}

// labelFlags are repeated --label NAME=VALUE flags.
type labelFlags [][2]string

func (l *labelFlags) String() string { return fmt.Sprint(*l) }

func (l *labelFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	*l = append(*l, [2]string{name, value})
	return nil
}

// labelText is {name="value",…} in name order.
func labelText(labels map[string]string) string {
	names := slices.Sorted(maps.Keys(labels))
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", n, labels[n]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
