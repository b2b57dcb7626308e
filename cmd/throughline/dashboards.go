package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/throughline/throughline/dashboards"
	"github.com/throughline/throughline/internal/config"
)

func runDashboards(_ context.Context, g *globals, args []string) error {
	fs := g.flags("dashboards")
	cfgPath := fs.String("config", "", "config file with alerts: thresholds and schedules.sync (default: built-in defaults)")
	out := fs.String("out", "throughline-dashboards", "folder to write prometheus/{alerts,recording}.yml and grafana/ (dashboards and provisioning) to")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	var cfg *config.Config
	var err error
	if *cfgPath == "" {
		// An empty document is the built-in defaults, applied by the one code path.
		cfg, err = config.Parse("built-in defaults", []byte("{}"))
	} else {
		cfg, err = loadConfig(*cfgPath)
	}
	if err != nil {
		return err
	}
	paths, err := writeRules(*out, cfg)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintf(g.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(g.stdout, "load them with rule_files: [%q] in prometheus.yml; check with `promtool check rules`\n",
		filepath.Join(filepath.Dir(paths[0]), "*.yml"))
	grafana, err := dashboards.WriteGrafana(*out)
	if err != nil {
		return err
	}
	for _, p := range grafana {
		fmt.Fprintf(g.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(g.stdout, "provision Grafana with %s (deploy/docker-compose.yml shows how)\n",
		filepath.Join(*out, dashboards.GrafanaDir, "provisioning", "*.yml"))
	return nil
}

// writeRules writes the Prometheus alert and recording rules for cfg to
// dir/prometheus/ and returns the paths.
func writeRules(dir string, cfg *config.Config) ([]string, error) {
	o, err := rulesOptions(cfg)
	if err != nil {
		return nil, err
	}
	// Options the generator rejects (a sync schedule that never runs) are
	// config errors; what Write adds are file errors.
	if _, err := dashboards.Alerts(o); err != nil {
		return nil, usagef("%s: %v", cfg.Path, err)
	}
	return dashboards.Write(dir, o)
}

func rulesOptions(cfg *config.Config) (dashboards.Options, error) {
	a := cfg.Alerts
	o := dashboards.Options{
		AllocationRatio:   a.AllocationRatio,
		LoggedUtilization: a.LoggedUtilization,
		OnTimeProbability: a.OnTimeProbability,
		SyncSchedule:      cfg.Schedules.Sync,
		Location:          cfg.Location,
		RunbookBaseURL:    a.RunbookBaseURL,
	}
	// config validated the durations; an error here is a bug, reported as usage.
	var bad []string
	dur := func(key, s string) time.Duration {
		d, err := model.ParseDuration(s)
		if err != nil {
			bad = append(bad, fmt.Sprintf("alerts.%s %q: %v", key, s, err))
		}
		return time.Duration(d)
	}
	o.OverallocatedFor = dur("overallocated_for", a.OverallocatedFor)
	o.WIPOverLimitFor = dur("wip_over_limit_for", a.WIPOverLimitFor)
	o.SyncFailingFor = dur("sync_failing_for", a.SyncFailingFor)
	if len(bad) > 0 {
		return o, usagef("%s: %s", cfg.Path, strings.Join(bad, "; "))
	}
	return o, nil
}
