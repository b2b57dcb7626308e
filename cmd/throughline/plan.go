package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"

	"github.com/throughline/throughline/internal/config"
	"github.com/throughline/throughline/metrics/plan"
)

// runPlan is `throughline plan`: which team can take new project work. It
// asks the running server (POST /api/v1/plan) and, when none answers, reads
// the warehouse file itself; both give the same answer.
func runPlan(ctx context.Context, g *globals, args []string) error {
	fs := g.flags("plan")
	cfgPath := fs.String("config", "throughline.yaml", "config file")
	items := fs.Int("items", 0, "the new work in items")
	hours := fs.Float64("hours", 0, "the new work in hours (converted by each team's median hours per finished item)")
	team := fs.String("team", "", "only this team")
	project := fs.String("project", "", "only the teams working on this project")
	start := fs.String("start", "", "first day of the work (YYYY-MM-DD; default tomorrow)")
	due := fs.String("due", "", "the date to meet (YYYY-MM-DD)")
	format := fs.String("format", "table", "table or json")
	if err := g.parse(fs, args); err != nil {
		return err
	}
	if (*items > 0) == (*hours > 0) || *items < 0 || *hours < 0 {
		return usagef("give the new work as --items N or --hours H (one of them, positive)")
	}
	if *format != "table" && *format != "json" {
		return usagef("--format %q: want table or json", *format)
	}
	req := plan.Request{Items: *items, Hours: *hours, Team: *team, Project: *project}
	for _, d := range []struct {
		flag, v string
		to      *plan.Date
	}{{"start", *start, &req.Start}, {"due", *due, &req.Due}} {
		if d.v == "" {
			continue
		}
		v, err := plan.ParseDate(d.v)
		if err != nil {
			return usagef("--%s %v", d.flag, err)
		}
		*d.to = v
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	var a *plan.Answer
	err = callServer(ctx, cfg, "/api/v1/plan", req, &a)
	if errors.Is(err, errNoServer) {
		a, err = planFile(ctx, cfg, req)
	}
	var qe *serverError
	var re *plan.RequestError
	switch {
	case errors.As(err, &qe) && qe.Status == http.StatusBadRequest:
		return usagef("%s", qe.Msg)
	case errors.As(err, &re):
		return usagef("%s", re.Msg)
	case err != nil:
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	return writePlan(g.stdout, a)
}

// planFile answers from the warehouse file, opened read-only, with the
// inputs as of the last compute.
func planFile(ctx context.Context, cfg *config.Config, req plan.Request) (*plan.Answer, error) {
	db, err := openComputed(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var computed sql.NullTime
	if err := db.QueryRowContext(ctx, `SELECT max(started_at) FROM job_runs WHERE job = 'compute' AND status = 'ok'`).Scan(&computed); err != nil {
		return nil, fmt.Errorf("read the last compute: %w", err)
	}
	if !computed.Valid {
		return nil, errors.New("no compute has finished yet: run `throughline compute` first")
	}
	in, err := plan.Load(ctx, db.DB, plan.Params{Now: computed.Time, Location: cfg.Location, WindowDays: cfg.Metrics.WindowDays,
		Trials: cfg.Metrics.Forecast.Trials, Seed: uint64(cfg.Metrics.Forecast.Seed)})
	if err != nil {
		return nil, err
	}
	return in.Plan(req)
}

// writePlan prints an answer: the teams ranked, then their allocation week
// by week, then what the answer assumed.
func writePlan(w io.Writer, a *plan.Answer) error {
	what := fmt.Sprintf("%d items", a.Request.Items)
	if a.Request.Hours > 0 {
		what = fmt.Sprintf("%g hours", a.Request.Hours)
	}
	if a.Request.Project != "" {
		what += " for " + a.Request.Project
	}
	how := "teams ranked by P85 date, then peak allocation"
	if !a.Request.Due.IsZero() {
		what += ", due " + a.Request.Due.String()
		how = "teams ranked by the chance of meeting the due date, then peak allocation"
	}
	fmt.Fprintf(w, "New work: %s, from %s; %s (%d seeded trials each):\n", what, a.Start, how, a.Trials)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tteam\titems\thours\tafter_items\tp50\tp85\ton_time\tpeak_allocation\tover_allocated\t")
	opt := func(v *float64, f string) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf(f, *v)
	}
	date := func(d *plan.Date) string {
		if d == nil {
			return "—"
		}
		return d.String()
	}
	var reasons []string
	for _, t := range a.Teams {
		items := "—"
		if t.Items != nil {
			items = fmt.Sprint(*t.Items)
		}
		var onTime *float64
		if t.OnTime != nil {
			v := 100 * *t.OnTime
			onTime = &v
		}
		peak, over := "—", ""
		if t.PeakAllocation != nil {
			peak = fmt.Sprintf("%.0f%% %s", 100**t.PeakAllocation, t.PeakBand)
		}
		if t.OverAllocated {
			over = "OVER"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", t.Rank, t.Team, items, opt(t.Hours, "%.0f"), t.AheadItems,
			date(t.P50), date(t.P85), opt(onTime, "%.0f%%"), peak, over)
		if t.Reason != "" {
			reasons = append(reasons, t.Team+": "+t.Reason)
		} else if t.Hours == nil {
			reasons = append(reasons, t.Team+": no worklogs on its finished project items: the allocation leaves the new work out")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(a.Teams) > 0 && len(a.Teams[0].Weeks) > 0 {
		fmt.Fprintln(w, "\nallocation per week with the new work ((planned + new hours) ÷ capacity; under 60% under-loaded, to 85% healthy, to 100% warning, above over-allocated):")
		head := []string{"team"}
		for _, wk := range a.Teams[0].Weeks {
			head = append(head, wk.Start.Format("Jan 02"))
		}
		fmt.Fprintln(tw, strings.Join(head, "\t")+"\t")
		for _, t := range a.Teams {
			row := []string{t.Team}
			for _, wk := range t.Weeks {
				cell := "—"
				if wk.Allocation != nil {
					cell = fmt.Sprintf("%.0f%%", 100**wk.Allocation)
					if wk.New > 0 {
						cell += fmt.Sprintf(" (+%.0fh)", wk.New)
					}
				}
				row = append(row, cell)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, r := range reasons {
		fmt.Fprintln(w, "note: "+r)
	}
	for _, n := range a.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
	return nil
}
