package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

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
	mixin, err := mixinConfig(cfg)
	if err != nil {
		return err
	}
	paths, err := dashboards.Write(*out, mixin)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintf(g.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(g.stdout, "load the rules with rule_files: [%q] in prometheus.yml; check with `promtool check rules`; _config.json is what they were generated from\n",
		filepath.Join(filepath.Dir(paths[0]), "*.yml"))
	grafana, err := dashboards.WriteGrafana(*out, mixin)
	if err != nil {
		return err
	}
	for _, p := range grafana {
		fmt.Fprintf(g.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(g.stdout, "provision Grafana with %s (deploy/docker-compose.yml shows how), or import the dashboards into yours\n",
		filepath.Join(*out, dashboards.GrafanaDir, "provisioning", "*.yml"))
	return nil
}

// writeMonitoring writes the Prometheus rules, _config.json and the Grafana
// dashboards for cfg to dir and returns the rule files' paths (alerts.yml,
// recording.yml).
func writeMonitoring(dir string, cfg *config.Config) ([]string, error) {
	mixin, err := mixinConfig(cfg)
	if err != nil {
		return nil, err
	}
	paths, err := dashboards.Write(dir, mixin)
	if err != nil {
		return nil, err
	}
	if _, err := dashboards.WriteGrafana(dir, mixin); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(paths, func(p string) bool { return filepath.Ext(p) != ".yml" }), nil
}

// mixinConfig is the _config of the rules and dashboards for cfg: the
// generator's defaults, overridden by what the alerts: section sets, with
// the config's schedules and time zone. A value the generator rejects is a
// config (usage) error.
func mixinConfig(cfg *config.Config) (dashboards.Config, error) {
	a := cfg.Alerts
	c := dashboards.DefaultConfig()
	str := func(into *string, v string) {
		if v != "" {
			*into = v
		}
	}
	float := func(into *float64, v float64) {
		if v != 0 {
			*into = v
		}
	}
	var bad []string
	dur := func(into *model.Duration, key, v string) {
		if v == "" {
			return
		}
		d, err := model.ParseDuration(v)
		if err != nil {
			bad = append(bad, fmt.Sprintf("alerts.%s %q: %v", key, v, err))
		}
		*into = d
	}
	str(&c.Selector, a.Selector)
	if len(a.InstanceLabels) > 0 {
		c.InstanceLabels = a.InstanceLabels
	}
	str(&c.RunbookBaseURL, a.RunbookBaseURL)
	str(&c.PlanningSeverity, a.PlanningSeverity)
	str(&c.OperatorSeverity, a.OperatorSeverity)
	float(&c.AllocationRatio, a.AllocationRatio)
	float(&c.LoggedUtilization, a.LoggedUtilization)
	float(&c.AgingShare, a.AgingShare)
	float(&c.OnTimeProbability, a.OnTimeProbability)
	float(&c.RateLimitedShare, a.RateLimitedShare)
	if a.AgingMinItems != 0 {
		c.AgingMinItems = a.AgingMinItems
	}
	dur(&c.OverallocatedFor, "overallocated_for", a.OverallocatedFor)
	dur(&c.WIPOverLimitFor, "wip_over_limit_for", a.WIPOverLimitFor)
	dur(&c.AgingFor, "aging_for", a.AgingFor)
	dur(&c.StalledFor, "stalled_for", a.StalledFor)
	dur(&c.SyncFailingFor, "sync_failing_for", a.SyncFailingFor)
	dur(&c.ExporterDownFor, "exporter_down_for", a.ExporterDownFor)
	dur(&c.KeepFiringFor, "keep_firing_for", a.KeepFiringFor)
	c.SyncSchedule, c.ComputeSchedule, c.Timezone = cfg.Schedules.Sync, cfg.Schedules.Compute, cfg.Timezone
	if len(bad) > 0 {
		return c, usagef("%s: %s", cfg.Path, strings.Join(bad, "; "))
	}
	if err := c.Validate(); err != nil {
		return c, usagef("%s: %v", cfg.Path, err)
	}
	return c, nil
}
