package metrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/throughline/throughline/ingest"
	"github.com/throughline/throughline/metrics"
	"github.com/throughline/throughline/warehouse"
	"github.com/throughline/throughline/warehouse/warehousetest"
)

type forecastRow struct {
	Status           string
	P50, P85         string
	Slip             sql.NullInt64
	OnTime           sql.NullFloat64
	Model            string
	Share            float64
	Position         sql.NullInt64
	Ahead, Remaining int
	ForecastVersion  int
	KnownForecast    bool
}

// forecasts reads each milestone's status and latest stored forecast.
func forecasts(t *testing.T, db *warehouse.DB) map[string]forecastRow {
	t.Helper()
	rows, err := db.Query(`SELECT s.name, s.status, coalesce(strftime(s.p50_date, '%m-%d'), ''), coalesce(strftime(s.p85_date, '%m-%d'), ''),
			s.slip_days, s.on_time_probability, f.model, f.milestone_share, f.queue_position, f.ahead_items, f.remaining, f.forecast_version, f.known
		FROM milestone_status s JOIN milestone_forecasts f USING (milestone_id)`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]forecastRow{}
	for rows.Next() {
		var name string
		var r forecastRow
		if err := rows.Scan(&name, &r.Status, &r.P50, &r.P85, &r.Slip, &r.OnTime, &r.Model, &r.Share, &r.Position, &r.Ahead,
			&r.Remaining, &r.ForecastVersion, &r.KnownForecast); err != nil {
			t.Fatal(err)
		}
		got[name] = r
	}
	return got
}

func TestPortfolioForecastInCompute(t *testing.T) {
	// The delivery scenario (delivery_test.go) in the portfolio model. WEB
	// finishes one item a day and none of the window's completions belongs
	// to a milestone: s = 1. Its open milestones queue by due date: M2 (1
	// item, due 03-15), M4 (5, 03-23), M5 (8, 03-24), M3 (3, 03-25); from
	// 03-19 (day 1) they finish on days 1, 6, 14 and 17: 03-19, 03-24,
	// 04-01 and 04-04 in every trial. Alone (independent), M3 and M4 were
	// on track; behind the others they are off track.
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", dcBatch()); err != nil {
		t.Fatal(err)
	}
	p := dcParams()
	p.ForecastMode = metrics.ModePortfolio
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	got := forecasts(t, db)
	n := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: true} }
	f := func(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }
	web := func(status, date string, slip int64, onTime float64, pos int64, ahead, remaining int) forecastRow {
		return forecastRow{Status: status, P50: date, P85: date, Slip: n(slip), OnTime: f(onTime), Model: "portfolio", Share: 1,
			Position: n(pos), Ahead: ahead, Remaining: remaining, ForecastVersion: 2, KnownForecast: true}
	}
	want := map[string]forecastRow{
		"M2": web("overdue", "03-19", 4, 0, 1, 0, 1),
		"M4": web("off_track", "03-24", 1, 0, 2, 1, 5),
		"M5": web("off_track", "04-01", 8, 0, 3, 6, 8),
		"M3": web("off_track", "04-04", 10, 0, 4, 14, 3),
		// DOC finished nothing: unknown, queue of one.
		"M8": {Status: "unknown", Model: "portfolio", Share: 1, Position: n(1), Remaining: 1, ForecastVersion: 2},
	}
	for _, name := range []string{"M6", "M7"} {
		delete(got, name) // APP: random, checked below
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("portfolio forecasts (-want +got):\n%s", d)
	}
	// APP: 2 items on 3 of 10 days, s = 1. M6 (2 items, due 03-22) is first:
	// done with the first "2", as alone. M7 (1 item, no due date) is last:
	// done with the second "2", P(D <= k) = 1 − 0.7^k − k·0.3·0.7^(k−1):
	// 0.472 on day 5, 0.580 on day 6 (P50 03-24); 0.8507 on day 10 and 0.887
	// on day 11, so P85 is 03-28 or 03-29 (0.8507 is within sampling error
	// of 0.85).
	all := forecasts(t, db)
	if m6 := all["M6"]; m6.Status != "at_risk" || m6.Position != n(1) || m6.Ahead != 0 || math.Abs(m6.OnTime.Float64-0.7599) > 4*math.Sqrt(0.76*0.24/10000) {
		t.Errorf("M6 = %+v, want at risk, first, on time 0.7599", m6)
	}
	if m7 := all["M7"]; m7.Status != "no_due_date" || m7.Position != n(2) || m7.Ahead != 2 || m7.P50 != "03-24" || (m7.P85 != "03-28" && m7.P85 != "03-29") {
		t.Errorf("M7 = %+v, want no due date, second behind 2 items, P50 03-24, P85 03-28 or 03-29", m7)
	}
}

// binomAtLeast returns P(Binomial(n, 1/2) >= k).
func binomAtLeast(n, k int) float64 {
	pmf, p := math.Pow(0.5, float64(n)), 0.0
	for j := 0; j <= n; j++ {
		if j >= k {
			p += pmf
		}
		pmf *= float64(n-j) / float64(j+1)
	}
	return p
}

func TestPortfolioThinnedShareInCompute(t *testing.T) {
	// THN finishes 2 items a day over the 10-day window, one of them in the
	// done milestone OLD: s = 10/20 = 0.5. NEW has 12 items left: each day
	// counts Binomial(2, 1/2), so P(done by day n) = P(Binomial(2n, 1/2) >=
	// 12): 0.416 on day 11, 0.581 on day 12 (P50 03-30), 0.828 on day 14,
	// 0.900 on day 15 (P85 04-02).
	var b ingest.Batch
	created := at("2026-03-01T08:00:00Z")
	add := func(key, milestone string, done time.Time) {
		it := ingest.Item{Key: key, Project: "THN", Type: "Story", Milestone: milestone, CreatedAt: created, Status: "To Do"}
		b.Transitions = append(b.Transitions, ingest.Transition{ItemKey: key, At: created, To: "To Do"})
		if !done.IsZero() {
			it.Status = "Done"
			b.Transitions = append(b.Transitions,
				ingest.Transition{ItemKey: key, At: done.Add(-time.Hour), From: "To Do", To: "In Progress"},
				ingest.Transition{ItemKey: key, At: done, From: "In Progress", To: "Done"})
		}
		b.Items = append(b.Items, it)
	}
	for i := range 10 {
		day := d("2026-03-09").AddDate(0, 0, i).Add(15 * time.Hour)
		add(fmt.Sprintf("THN-O%d", i), "OLD", day)
		add(fmt.Sprintf("THN-F%d", i), "", day)
	}
	for i := range 12 {
		add(fmt.Sprintf("THN-N%d", i), "NEW", time.Time{})
	}
	b.Milestones = []ingest.Milestone{{Name: "OLD", Project: "THN", DueDate: d("2026-03-20")}, {Name: "NEW", Project: "THN", DueDate: d("2026-04-30")}}
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := dcParams()
	p.ForecastMode = metrics.ModePortfolio
	if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]float64{11: 0.416, 12: 0.581, 14: 0.828, 15: 0.900} {
		if got := binomAtLeast(2*n, 12); math.Abs(got-want) > 0.001 {
			t.Fatalf("P(Binomial(%d, 1/2) >= 12) = %.4f, the comment says %.3f", 2*n, got, want)
		}
	}
	got := forecasts(t, db)["NEW"]
	if got.Share != 0.5 || got.P50 != "03-30" || got.P85 != "04-02" || got.Status != "on_track" || got.OnTime.Float64 != 1 {
		t.Errorf("NEW = %+v, want share 0.5, P50 03-30, P85 04-02, on track", got)
	}
}

func TestBacktestInCompute(t *testing.T) {
	// BT finishes one item a day from 2025-12-01 to today (2026-03-18), each
	// in a milestone, so s = 1 and every 10-day window holds ten 1s:
	//   R0: 49 items created 2025-11-30, done 12-01..01-18; start date 01-04
	//       (its life: checkpoints on the Mondays 01-05 and 01-12); due 01-16.
	//   R1: 14 items created 01-04, done 01-19..02-01 (01-05 … 01-26); due 02-01.
	//   R2: 21 items created 01-25, done 02-02..02-22 (01-26 … 02-16); due 02-20.
	//   R3: 30 items created 02-01, 24 done 02-23..03-18; open, not scored.
	// Portfolio: at every checkpoint the queue (due order R0, R1, R2) holds
	// what is open, and one a day finishes each on its actual date: 10
	// checkpoints, every date hit, no error. Independent: R1 is forecast 14
	// and 7 days early at 01-05 and 01-12 (R0 still had 14 and 7 items), R2
	// 7 days early at 01-26 (R1 had 7): 7 of 10 hit, errors 14+7+7 = 28.
	var b ingest.Batch
	finish := d("2025-12-01")
	addMs := func(name string, created string, n, done int, due string, start string) {
		ms := ingest.Milestone{Name: name, Project: "BT", DueDate: d(due)}
		if start != "" {
			ms.StartDate = d(start)
		}
		b.Milestones = append(b.Milestones, ms)
		for k := range n {
			key := fmt.Sprintf("BT-%s-%d", name, k)
			c := at(created + "T08:00:00Z")
			it := ingest.Item{Key: key, Project: "BT", Type: "Story", Milestone: name, CreatedAt: c, Status: "To Do"}
			b.Transitions = append(b.Transitions, ingest.Transition{ItemKey: key, At: c, To: "To Do"})
			if k < done {
				f := finish.Add(15 * time.Hour)
				finish = finish.AddDate(0, 0, 1)
				it.Status = "Done"
				b.Transitions = append(b.Transitions,
					ingest.Transition{ItemKey: key, At: f.Add(-time.Hour), From: "To Do", To: "In Progress"},
					ingest.Transition{ItemKey: key, At: f, From: "In Progress", To: "Done"})
			}
			b.Items = append(b.Items, it)
		}
	}
	addMs("R0", "2025-11-30", 49, 49, "2026-01-16", "2026-01-04")
	addMs("R1", "2026-01-04", 14, 14, "2026-02-01", "")
	addMs("R2", "2026-01-25", 21, 21, "2026-02-20", "")
	addMs("R3", "2026-02-01", 30, 24, "2026-04-15", "")
	if !finish.Equal(d("2026-03-19")) {
		t.Fatalf("the history ends the day before %v, want 03-18", finish)
	}
	db := warehousetest.Open(t, "UTC")
	ctx := context.Background()
	if err := db.Commit(ctx, "t", b); err != nil {
		t.Fatal(err)
	}
	p := dcParams()
	p.Trials = 1000
	for range 2 { // the second compute keeps the stored checkpoints (same inputs)
		if _, err := metrics.Compute(ctx, db.DB, p); err != nil {
			t.Fatal(err)
		}
	}
	type summary struct {
		Milestones, Checkpoints, Unknown int
		Hit50, Hit85, Hit95, MAE, Bias   float64
		Since                            string
	}
	rows, err := db.Query(`SELECT project, model, milestones, checkpoints, unknown_checkpoints, hit_rate_p50, hit_rate_p85, hit_rate_p95,
		p85_mae_days, p85_bias_days, strftime(since, '%Y-%m-%d') FROM forecast_backtest_summary`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]summary{}
	for rows.Next() {
		var proj, model string
		var s summary
		if err := rows.Scan(&proj, &model, &s.Milestones, &s.Checkpoints, &s.Unknown, &s.Hit50, &s.Hit85, &s.Hit95, &s.MAE, &s.Bias, &s.Since); err != nil {
			t.Fatal(err)
		}
		got[proj+"/"+model] = s
	}
	perfect := summary{Milestones: 3, Checkpoints: 10, Hit50: 1, Hit85: 1, Hit95: 1, Since: "2025-03-19"}
	alone := summary{Milestones: 3, Checkpoints: 10, Hit50: 0.7, Hit85: 0.7, Hit95: 0.7, MAE: 2.8, Bias: 2.8, Since: "2025-03-19"}
	want := map[string]summary{"BT/portfolio": perfect, "*/portfolio": perfect, "BT/independent": alone, "*/independent": alone}
	if d := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); d != "" {
		t.Errorf("forecast_backtest_summary (-want +got):\n%s", d)
	}
	errs := queryMap(t, db, `SELECT model || ' ' || m.name || ' ' || strftime(checkpoint, '%m-%d') || ' ' || remaining || '+' || ahead_items,
		p85_error_days FROM forecast_backtest b JOIN milestones m USING (milestone_id)`)
	wantErrs := map[string]int64{
		"portfolio R0 01-05 14+0": 0, "portfolio R0 01-12 7+0": 0,
		"portfolio R1 01-05 14+14": 0, "portfolio R1 01-12 14+7": 0, "portfolio R1 01-19 14+0": 0, "portfolio R1 01-26 7+0": 0,
		"portfolio R2 01-26 21+7": 0, "portfolio R2 02-02 21+0": 0, "portfolio R2 02-09 14+0": 0, "portfolio R2 02-16 7+0": 0,
		"independent R0 01-05 14+0": 0, "independent R0 01-12 7+0": 0,
		"independent R1 01-05 14+0": 14, "independent R1 01-12 14+0": 7, "independent R1 01-19 14+0": 0, "independent R1 01-26 7+0": 0,
		"independent R2 01-26 21+0": 7, "independent R2 02-02 21+0": 0, "independent R2 02-09 14+0": 0, "independent R2 02-16 7+0": 0,
	}
	if d := cmp.Diff(wantErrs, errs); d != "" {
		t.Errorf("forecast_backtest p85_error_days (-want +got):\n%s", d)
	}
	// The collector exposes both models' accuracy.
	snap, err := metrics.LoadSnapshot(ctx, db.DB, p.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := metrics.NewCollector(metrics.Build{Version: "test", Revision: "abc", GoVersion: "go1.26"})
	c.SetSnapshot(snap)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mae := 28.0 / 10 // days, as stored
	exp := header(metrics.ForecastBacktestHit)
	for _, model := range []string{"independent", "portfolio"} {
		for _, pct := range []string{"50", "85", "95"} {
			v := map[string]string{"independent": "0.7", "portfolio": "1"}[model]
			exp += `throughline_forecast_backtest_hit_ratio{model="` + model + `",percentile="` + pct + `",project="BT"} ` + v + "\n"
		}
	}
	exp += header(metrics.ForecastBacktestError) +
		`throughline_forecast_backtest_p85_error_seconds{model="independent",project="BT"} ` + strconv.FormatFloat(mae*86400, 'g', -1, 64) + "\n" +
		`throughline_forecast_backtest_p85_error_seconds{model="portfolio",project="BT"} 0` + "\n" +
		header(metrics.BacktestOverallSample) +
		`throughline_forecast_backtest_overall_checkpoints{model="independent"} 10` + "\n" +
		`throughline_forecast_backtest_overall_checkpoints{model="portfolio"} 10` + "\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(exp), "throughline_forecast_backtest_hit_ratio",
		"throughline_forecast_backtest_p85_error_seconds", "throughline_forecast_backtest_overall_checkpoints"); err != nil {
		t.Error(err)
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
}
