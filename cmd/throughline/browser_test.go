package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/throughline/throughline/docs"
	"github.com/throughline/throughline/metrics/plan"
)

// hostileTitle is a work item title written by a hostile Jira or Asana user.
const hostileTitle = `<script>alert(1)</script>`

// hostileTitles are more titles that try to break out of an attribute or
// to make a link run script.
var hostileTitles = []string{`" onmouseover="alert(2)" x="`, `javascript:alert(3)`, `<img src=x onerror=alert(4)>`}

// browserTrace collects what the browser saw: console errors, failed and
// off-host requests, document statuses and dialogs (a hostile title that ran).
type browserTrace struct {
	mu       sync.Mutex
	host     string
	errors   []string
	offHost  []string
	failed   []string
	dialogs  []string
	statuses map[string]int64 // document URL → HTTP status
	done     map[string]bool  // completed downloads by guid
	files    map[string]string
}

func (b *browserTrace) listen(ctx context.Context) error {
	return chromedp.Listen(ctx, b.event(ctx))
}

func (b *browserTrace) event(ctx context.Context) func(ev any) {
	return func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				b.errors = append(b.errors, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+e.ExceptionDetails.Text+" "+describe(e.ExceptionDetails.Exception))
		case *cdplog.EventEntryAdded:
			// The console's refused queries answer 4xx on purpose.
			if e.Entry.Level == cdplog.EntryLevelError && !(e.Entry.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Entry.URL, "/api/v1/sql")) {
				b.errors = append(b.errors, "log "+string(e.Entry.Source)+": "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(e.Request.URL)
			if err != nil || (u.Scheme != "data" && u.Scheme != "blob" && u.Host != b.host) {
				b.offHost = append(b.offHost, e.Request.URL)
			}
		case *network.EventLoadingFailed:
			if !e.Canceled {
				b.failed = append(b.failed, string(e.RequestID)+": "+e.ErrorText)
			}
		case *network.EventResponseReceived:
			if e.Type == network.ResourceTypeDocument {
				b.statuses[e.Response.URL] = e.Response.Status
			} else if e.Response.Status >= 400 && !strings.Contains(e.Response.URL, "/api/v1/sql") {
				b.failed = append(b.failed, fmt.Sprintf("%s: %d", e.Response.URL, e.Response.Status))
			}
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, e.Message)
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *browser.EventDownloadWillBegin:
			b.files[e.GUID] = e.SuggestedFilename
		case *browser.EventDownloadProgress:
			if e.State == browser.DownloadProgressStateCompleted {
				b.done[e.GUID] = true
			}
		}
	}
}

func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}

// take returns and clears the problems seen so far.
func (b *browserTrace) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	out = append(out, b.errors...)
	for _, u := range b.offHost {
		out = append(out, "off-host request: "+u)
	}
	for _, f := range b.failed {
		out = append(out, "failed request: "+f)
	}
	for _, d := range b.dialogs {
		out = append(out, "a dialog opened (a script from the data ran?): "+d)
	}
	b.errors, b.offHost, b.failed, b.dialogs = nil, nil, nil, nil
	return out
}

func (b *browserTrace) status(u string) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statuses[u]
}

// chromium finds Debian's chromium (installed by .ci/run); without it the
// test skips, or fails under CI.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found and CI is set: .ci/run installs it (apt-get install chromium chromium-driver)")
	}
	t.Skip("chromium not found: apt-get install chromium to run the browser test")
	return ""
}

// screenshotDir is where the test saves a screenshot of every page:
// $THROUGHLINE_SCREENSHOTS, else testdata/screenshots (not committed).
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("THROUGHLINE_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// addHostileItems appends started items with hostile titles to the demo's
// CSV folder (team platform, project WEB).
func addHostileItems(t *testing.T, dataDir string, now time.Time) []string {
	t.Helper()
	items, err := os.OpenFile(filepath.Join(dataDir, "items.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := os.OpenFile(filepath.Join(dataDir, "status_changes.csv"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	iw, cw := csv.NewWriter(items), csv.NewWriter(changes)
	var keys []string
	for i, title := range append([]string{hostileTitle}, hostileTitles...) {
		key := fmt.Sprintf("WEB-%d", 9000+i)
		keys = append(keys, key)
		created := now.AddDate(0, 0, -60).UTC().Format(time.RFC3339)
		started := now.AddDate(0, 0, -50).UTC().Format(time.RFC3339)
		// key,project,title,type,status,assignee,created_at,resolved_at,resolution,due_date,story_points,estimate_hours,milestone,parent,team,work_class
		iw.Write([]string{key, "WEB", title, "Story", "In Progress", "", created, "", "", "", "", "", "", "", "platform", "project"})
		cw.Write([]string{key, started, "To Do", "In Progress"})
	}
	iw.Flush()
	cw.Flush()
	for _, err := range []error{iw.Error(), cw.Error(), items.Close(), changes.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// TestPagesInBrowser serves the demo organisation with a token and drives
// Debian's chromium through every page: sign-in, values against the
// warehouse, the SQL console, hostile titles, and a screenshot of each page.
func TestPagesInBrowser(t *testing.T) {
	chromePath := chromium(t)
	const token = "browser-test-token"
	t.Setenv("THROUGHLINE_SQL_TOKEN", token)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	base := "http://" + addr
	now := time.Now()
	g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.DiscardHandler)}
	dir := filepath.Join(t.TempDir(), "demo")
	d, err := setupDemo(ctx, g, demoSetup{dir: dir, items: 900, now: now, jira: demoJiraProjects, asana: demoAsanaProject, listen: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	hostileKeys := addHostileItems(t, filepath.Join(dir, "data"), now)
	p := d.p
	p.progress = false
	if err := d.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := p.compute(ctx); err != nil {
		t.Fatal(err)
	}
	// What the pages must show, from the warehouse (before serve locks it down).
	want := expectedFigures(t, p)
	defer serveUntilDone(t, ctx, cancel, p, ln, false)()

	t.Run("token required for pages, not for /metrics", func(t *testing.T) {
		for path, wantCode := range map[string]int{"/": 401, "/team": 401, "/sql": 401, "/csv/portfolio/teams": 401,
			"/metrics": 200, "/healthz": 200, "/readyz": 200, "/assets/app.js": 200} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != wantCode {
				t.Errorf("GET %s without a token: %d, want %d", path, resp.StatusCode, wantCode)
			}
		}
		req, _ := http.NewRequest("GET", base+"/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET / with the bearer token: %d", resp.StatusCode)
		}
		// A cross-site sign-in post is refused (CSRF).
		req, _ = http.NewRequest("POST", base+"/signin", strings.NewReader("token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.Header.Set("Origin", "http://evil.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) > 0 {
			t.Errorf("cross-site POST /signin: %d with %d cookies, want 403 and none", resp.StatusCode, len(resp.Cookies()))
		}
	})

	shots := screenshotDir(t)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromePath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	tr := &browserTrace{host: addr, statuses: map[string]int64{}, done: map[string]bool{}, files: map[string]string{}}
	// The first call starts the browser: no time-out on it.
	if err := tr.listen(bctx); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.ListenBrowser(bctx, tr.event(bctx)); err != nil {
		t.Fatal(err)
	}
	downloads := t.TempDir()
	events := true
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.CallBrowser(bctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &events}); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	clean := func(t *testing.T, what string) {
		t.Helper()
		for _, p := range tr.take() {
			t.Errorf("%s: %s", what, p)
		}
	}
	shot := func(t *testing.T, name string) {
		t.Helper()
		png := value(t, bctx, chromedp.FullScreenshot(100))
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visit := func(t *testing.T, path string, wantStatus int64) {
		t.Helper()
		run(t, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("body[data-ready]")))
		if got := tr.status(base + path); got != wantStatus {
			t.Errorf("GET %s: %d, want %d", path, got, wantStatus)
		}
	}

	// unready clears the page's ready mark, so that waiting for it waits for
	// the next page.
	unready := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`delete document.body.dataset.ready`)(ctx, tg)
		return err
	})
	t.Run("sign in", func(t *testing.T) {
		visit(t, "/team", 401)
		heading := value(t, bctx, chromedp.Text(chromedp.CSS("h1")))
		if heading != "Sign in" {
			t.Errorf("without the cookie /team shows %q, want the sign-in form", heading)
		}
		shot(t, "signin")
		tr.take() // the 401 of the page itself is the point
		run(t, unready, chromedp.SendKeys(chromedp.CSS("#token"), "wrong"), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitReady(chromedp.CSS("body[data-ready]")))
		msg := value(t, bctx, chromedp.Text(chromedp.CSS(".signin .error")))
		if !strings.Contains(msg, "not the token") {
			t.Errorf("wrong token: %q", msg)
		}
		tr.take()
		run(t, unready, chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")),
			chromedp.WaitReady(chromedp.CSS(`body[data-page="team"][data-ready]`)))
		loc := value(t, bctx, chromedp.Location())
		if loc != base+"/team" {
			t.Errorf("after sign-in at %s, want %s/team", loc, base)
		}
		clean(t, "sign-in")
	})

	t.Run("portfolio", func(t *testing.T) {
		visit(t, "/", 200)
		rows := value(t, bctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#teams-table tbody tr')).map(tr =>
			[tr.dataset.team, tr.querySelector('[data-metric=p85]').textContent.trim(), tr.querySelector('[data-metric=throughput]').textContent.trim()])`))
		got := map[string][2]string{}
		for _, r := range rows {
			got[r[0]] = [2]string{r[1], r[2]}
		}
		if diff := cmp.Diff(want.teams, got); diff != "" {
			t.Errorf("teams on the portfolio (-warehouse +page):\n%s", diff)
		}
		ms := value(t, bctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#milestones-table tbody tr')).map(tr =>
			[tr.dataset.milestone, tr.querySelector('[data-status]').dataset.status, tr.querySelector('[data-metric=p85]').textContent.trim()])`))
		risky := map[string][2]string{}
		for _, r := range ms {
			if r[1] == "at_risk" || r[1] == "off_track" || r[1] == "overdue" {
				risky[r[0]] = [2]string{r[1], r[2]}
			}
		}
		if len(want.risky) == 0 {
			t.Error("the demo has no risky milestone: the check is empty")
		}
		if diff := cmp.Diff(want.risky, risky); diff != "" {
			t.Errorf("risky milestones on the portfolio (-warehouse +page):\n%s", diff)
		}
		charts := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('figure.chart svg, .spark svg').length`))
		if charts < len(want.teams)+1 {
			t.Errorf("%d charts drawn, want the milestone chart and a sparkline per team", charts)
		}
		shot(t, "portfolio")
		clean(t, "portfolio")
	})

	t.Run("teams", func(t *testing.T) {
		for team, fig := range want.teams {
			visit(t, "/team?"+url.Values{"team": {team}}.Encode(), 200)
			p85 := value(t, bctx, chromedp.Text(chromedp.CSS(`.kpi [data-metric="p85"]`)))
			tp := value(t, bctx, chromedp.Text(chromedp.CSS(`.kpi [data-metric="throughput"]`)))
			if p85 != fig[0] || tp != fig[1] {
				t.Errorf("team %s page: P85 %q, throughput %q; warehouse %q, %q", team, p85, tp, fig[0], fig[1])
			}
			svgs := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('figure.chart svg').length`))
			if svgs < 4 {
				t.Errorf("team %s: %d charts drawn, want at least 4", team, svgs)
			}
			shot(t, "team-"+team)
			clean(t, "team "+team)
		}
	})

	t.Run("hostile titles are text", func(t *testing.T) {
		visit(t, "/team?team=platform", 200)
		cells := value(t, bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#over-sle td.title')).map(td => td.textContent)`))
		for _, title := range append([]string{hostileTitle}, hostileTitles...) {
			if !slices.Contains(cells, title) {
				t.Errorf("title %q not shown as text among the items past the SLE", title)
			}
		}
		scripts := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('script').length`))
		imgs := value(t, bctx, chromedp.Evaluate[int](`document.querySelectorAll('main img').length`))
		links := value(t, bctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href]')).map(a => a.protocol).filter(p => p !== 'http:' && p !== 'https:')`))
		if scripts != 4 || imgs != 0 || len(links) > 0 {
			t.Errorf("the page has %d script elements (want 4: three files and the chart data), %d images in main, links with protocols %v", scripts, imgs, links)
		}
		// Their keys link nowhere: CSV items have no source page.
		for _, key := range hostileKeys {
			n := value(t, bctx, chromedp.Evaluate[int](fmt.Sprintf(`Array.from(document.querySelectorAll('#over-sle a')).filter(a => a.textContent === %q).length`, key)))
			if n != 0 {
				t.Errorf("CSV item %s has a link", key)
			}
		}
		shot(t, "team-hostile-titles")
		clean(t, "hostile titles")
	})

	t.Run("milestones", func(t *testing.T) {
		visit(t, "/milestones", 200)
		shot(t, "milestones")
		clean(t, "milestones")
		i := 0
		for id, fig := range want.risky {
			visit(t, "/milestone?"+url.Values{"id": {id}}.Encode(), 200)
			status := value(t, bctx, chromedp.Evaluate[string](`document.querySelector('h1 [data-status]').dataset.status`))
			p85 := value(t, bctx, chromedp.Text(chromedp.CSS(`.kpi [data-metric="p85"]`)))
			if status != fig[0] || p85 != fig[1] {
				t.Errorf("milestone %s page: status %q, P85 %q; warehouse %q, %q", id, status, p85, fig[0], fig[1])
			}
			if i == 0 {
				shot(t, "milestone")
			}
			i++
			clean(t, "milestone "+id)
		}
	})

	t.Run("forecast accuracy", func(t *testing.T) {
		// The portfolio's accuracy table shows the warehouse's backtest of
		// the configured model, and a milestone page its project's.
		rows := apiRows(t, base, token, `SELECT project, format('{:.0f}%', 100 * hit_rate_p85) FROM forecast_backtest_summary
			WHERE model = 'portfolio' AND hit_rate_p85 IS NOT NULL AND project <> '*' ORDER BY project`)
		if len(rows) == 0 {
			t.Fatal("the demo has no backtest: the check is empty")
		}
		wantHits := map[string]string{}
		for _, r := range rows {
			wantHits[r[0]] = r[1]
		}
		visit(t, "/", 200)
		got := value(t, bctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#accuracy-table tbody tr')).
			filter(tr => tr.dataset.project !== '*').map(tr => [tr.dataset.project, tr.querySelector('[data-metric=p85-hit]').textContent.trim()])`))
		gotHits := map[string]string{}
		for _, r := range got {
			gotHits[r[0]] = r[1]
		}
		if diff := cmp.Diff(wantHits, gotHits); diff != "" {
			t.Errorf("P85 hit rates on the portfolio (-warehouse +page):\n%s", diff)
		}
		// Every risky milestone's page: its project's backtest, or the
		// statement that there is none, which the warehouse must confirm
		// (the demo's data decide which projects have one).
		noBacktest := regexp.MustCompile(`No backtest for (\S+) yet`)
		for _, id := range slices.Sorted(maps.Keys(want.risky)) {
			visit(t, "/milestone?"+url.Values{"id": {id}}.Encode(), 200)
			text := value(t, bctx, chromedp.Text(chromedp.CSS(`#forecast-model`)))
			m := noBacktest.FindStringSubmatch(text)
			switch {
			case !strings.Contains(text, "Forecast together with"):
				t.Errorf("milestone %s: forecast model section %q", id, text)
			case m != nil && wantHits[m[1]] != "":
				t.Errorf("milestone %s: the page says %s has no backtest; the warehouse has a P85 hit rate of %s", id, m[1], wantHits[m[1]])
			case m == nil && !strings.Contains(text, "P85 dates held"):
				t.Errorf("milestone %s: forecast model section %q: neither the backtest nor its absence", id, text)
			}
			clean(t, "milestone accuracy "+id)
		}
	})

	t.Run("planner", func(t *testing.T) {
		// Fill the form as a person would, submit, and compare the ranking
		// with the planner's own answer.
		due := p.now().In(p.cfg.Location).AddDate(0, 0, 42).Format("2006-01-02")
		visit(t, "/plan", 200)
		run(t, unready,
			chromedp.SetValue(chromedp.CSS(`input[name=items]`), "40"),
			chromedp.SetValue(chromedp.CSS(`input[name=due]`), due),
			chromedp.Click(chromedp.CSS(`form.plan-form button[type=submit]`)),
			chromedp.WaitReady(chromedp.CSS(`body[data-page="plan"][data-ready]`)),
			chromedp.WaitReady(chromedp.CSS(`#plan-answer`)))
		dd, _ := plan.ParseDate(due)
		ans, err := p.planInputs().Plan(plan.Request{Items: 40, Due: dd})
		if err != nil {
			t.Fatal(err)
		}
		var wantRank [][]string
		for _, ta := range ans.Teams {
			p85 := "—"
			if ta.P85 != nil {
				p85 = ta.P85.String()
			}
			wantRank = append(wantRank, []string{ta.Team, p85, fmt.Sprint(ta.OverAllocated)})
		}
		gotRank := value(t, bctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#plan-answer tbody tr[data-team]')).map(tr =>
			[tr.dataset.team, tr.querySelector('[data-metric=p85]').textContent.trim(), String(tr.querySelector('[data-over]') !== null)])`))
		if diff := cmp.Diff(wantRank, gotRank); diff != "" {
			t.Errorf("planner ranking (-planner +page):\n%s", diff)
		}
		shot(t, "planner")
		clean(t, "planner")
	})

	for _, pg := range []string{"capacity", "quality"} {
		t.Run(pg, func(t *testing.T) {
			visit(t, "/"+pg, 200)
			shot(t, pg)
			clean(t, pg)
		})
	}

	t.Run("sql console", func(t *testing.T) {
		var q docs.Query
		for _, c := range docs.Cookbook() {
			if c.Heading == "Cycle-time percentiles per team against the SLE" {
				q = c
			}
		}
		if q.SQL == "" {
			t.Fatal("cookbook query not found")
		}
		wantRows := apiRows(t, base, token, q.SQL)
		visit(t, "/sql", 200)
		run(t, chromedp.Click(chromedp.CSS(`button.example[data-example]`)), // loads and runs the first example
			chromedp.WaitVisible(chromedp.CSS(`#result table`)))
		// Now the cookbook query, through the example list.
		var idx int
		for i, c := range docs.Cookbook() {
			if c.Heading == q.Heading {
				idx = i
			}
		}
		value(t, bctx, chromedp.Evaluate[bool](`document.getElementById('result').replaceChildren() === undefined`))
		run(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`button.example[data-example="%d"]`, idx))),
			chromedp.WaitVisible(chromedp.CSS(`#result table`)))
		got := value(t, bctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('#result tbody tr')).map(tr => Array.from(tr.cells).map(td => td.textContent))`))
		if diff := cmp.Diff(wantRows, got); diff != "" {
			t.Errorf("console rows of %q (-API CSV +page):\n%s", q.Heading, diff)
		}
		shot(t, "sql")

		// CSV download of the same query equals the API's CSV.
		run(t, chromedp.Click(chromedp.CSS("#download-csv")))
		deadline := time.Now().Add(20 * time.Second)
		var file string
		for file == "" && time.Now().Before(deadline) {
			tr.mu.Lock()
			for guid := range tr.done {
				file = filepath.Join(downloads, guid)
			}
			tr.mu.Unlock()
			if file == "" {
				run(t, chromedp.Sleep(100*time.Millisecond))
			}
		}
		if file == "" {
			t.Fatal("no CSV download completed")
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(apiCSV(t, base, token, q.SQL)), string(b)); diff != "" {
			t.Errorf("downloaded CSV (-API +download):\n%s", diff)
		}

		// COPY is refused with the guard's message.
		run(t, chromedp.SetValue(chromedp.CSS("#sql"), "COPY item_flow TO '/tmp/x.csv'"), chromedp.Click(chromedp.CSS("#run")),
			chromedp.WaitVisible(chromedp.CSS("#error")))
		msg := value(t, bctx, chromedp.Text(chromedp.CSS("#error")))
		if !strings.HasPrefix(msg, "COPY statements are not allowed: the SQL API runs one read-only query") || !strings.HasSuffix(msg, "(read_only)") {
			t.Errorf("COPY refusal shows %q", msg)
		}
		shot(t, "sql-refused")
		clean(t, "sql console")
	})
}

// value runs an action that returns a value, with a time-out.
func value[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// figures are what the pages must show, read from the warehouse.
type figures struct {
	teams map[string][2]string // team → P85 ("N d"), last complete week's throughput
	risky map[string][2]string // milestone id → status, P85 date
}

func expectedFigures(t *testing.T, p *pipeline) figures {
	t.Helper()
	f := figures{teams: map[string][2]string{}, risky: map[string][2]string{}}
	today := p.now().In(p.cfg.Location)
	monday := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
	monday = monday.AddDate(0, 0, -((int(monday.Weekday())+6)%7)-7) // last complete week
	rows, err := p.db.Query(`SELECT c.team, c.p85_days,
			(SELECT coalesce(sum(items), 0) FROM throughput_weekly w WHERE w.team = c.team AND w.week_start = CAST(? AS DATE))
		FROM cycle_time_stats c WHERE c.work_class = '*' AND c.team <> '*'`, monday)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var team string
		var p85 sql.NullInt64
		var tp int
		if err := rows.Scan(&team, &p85, &tp); err != nil {
			t.Fatal(err)
		}
		v := "—"
		if p85.Valid {
			v = fmt.Sprintf("%d d", p85.Int64)
		}
		f.teams[team] = [2]string{v, fmt.Sprint(tp)}
	}
	rows.Close()
	rows, err = p.db.Query(`SELECT milestone_id, status, coalesce(strftime(p85_date, '%Y-%m-%d'), '') FROM milestone_status WHERE status IN ('at_risk', 'off_track', 'overdue')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, status, p85 string
		if err := rows.Scan(&id, &status, &p85); err != nil {
			t.Fatal(err)
		}
		f.risky[id] = [2]string{status, p85}
	}
	return f
}

// apiCSV runs sql through POST /api/v1/sql with the bearer token, as CSV.
func apiCSV(t *testing.T, base, token, query string) []byte {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/sql", strings.NewReader(query))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/sql")
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("API CSV: %d %v %s", resp.StatusCode, err, b)
	}
	return b
}

// apiRows are the data rows of apiCSV (the header dropped); NULL as the
// console shows it.
func apiRows(t *testing.T, base, token, query string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(apiCSV(t, base, token, query))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[1:]
}
