package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func newRequest(target string) *http.Request { return httptest.NewRequest("GET", target, nil) }

// testHandler serves the seeded model, with token ("" = open).
func testHandler(t *testing.T, token string) http.Handler {
	t.Helper()
	q, p := seedMetrics(t)
	m, err := Load(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Model: func() *Model { return m }, Token: token, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func serve(h http.Handler, r *http.Request) (*http.Response, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPagesRenderAndEscape(t *testing.T) {
	h := testHandler(t, "")
	for _, path := range []string{"/", "/team", "/team?team=web&class=project", "/milestones", "/milestone?id=jira:WEB:2.0",
		"/capacity", "/quality", "/sql", "/csv/team/cycle?team=web", "/assets/app.js", "/signin"} {
		t.Run(path, func(t *testing.T) {
			resp, body := serve(h, newRequest(path))
			if resp.StatusCode != 200 && !(path == "/signin" && resp.StatusCode == http.StatusSeeOther) {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP %q", csp)
			}
			if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
	t.Run("hostile title is text", func(t *testing.T) {
		_, body := serve(h, newRequest("/team?team=web"))
		if strings.Contains(body, "<script>alert(1)") {
			t.Error("the title's script tag reached the page")
		}
		// In the chart data (JSON in a non-executed script element) it is escaped.
		if !strings.Contains(body, `\u003cscript\u003ealert(1)\u003c/script\u003e`) {
			t.Error("escaped title not in the chart data")
		}
		_, body = serve(h, newRequest("/team?team=web&class=operational"))
		if !strings.Contains(body, `<td class="title">Open &amp; old</td>`) {
			t.Error("title of the item past its SLE not escaped as text")
		}
	})
	t.Run("unknown team and milestone", func(t *testing.T) {
		for _, path := range []string{"/team?team=nope", "/milestone?id=nope", "/nope"} {
			if resp, _ := serve(h, newRequest(path)); resp.StatusCode != 404 {
				t.Errorf("%s: %d, want 404", path, resp.StatusCode)
			}
		}
	})
	t.Run("gzip", func(t *testing.T) {
		r := newRequest("/team?team=web")
		r.Header.Set("Accept-Encoding", "gzip, deflate")
		if resp, _ := serve(h, r); resp.Header.Get("Content-Encoding") != "gzip" {
			t.Error("not gzipped")
		}
	})
	t.Run("csv", func(t *testing.T) {
		resp, body := serve(h, newRequest("/csv/team/cycle?team=web"))
		want := "key,title,project,work class,type,started,finished,flow days,url\n" +
			"WEB-2,Second,WEB,project,Bug,2026-02-28,2026-03-08,9,https://acme.atlassian.net/browse/WEB-2\n" +
			"WEB-1,<script>alert(1)</script>,WEB,project,Story,2026-03-02,2026-03-04,3,https://acme.atlassian.net/browse/WEB-1\n"
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="team-cycle-web.csv"` {
			t.Errorf("Content-Disposition %q", cd)
		}
		_, body = serve(h, newRequest("/csv/team/aging?team=web"))
		want = "key,title,project,work class,status,stage class,started,age days,SLE days,over SLE,url\n" +
			"OPS-1,Open & old,OPS,operational,In Progress,active,2026-02-20,20,10,yes,\n"
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("aging CSV (-want +got):\n%s", diff)
		}
	})
}

func TestSafeCells(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"=HYPERLINK(\"http://x\")", "-5", "+1 d", "@SUM(A1)", "plain"}, []string{"'=HYPERLINK(\"http://x\")", "-5", "'+1 d", "'@SUM(A1)", "plain"}},
		{[]string{"-0.25", ""}, []string{"-0.25", ""}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, safeCells(tt.in)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

func TestTokenAndSignIn(t *testing.T) {
	const token = "s3cret-token"
	h := testHandler(t, token)
	t.Run("pages and CSV need the token", func(t *testing.T) {
		resp, body := serve(h, newRequest("/team?team=web"))
		if resp.StatusCode != 401 || !strings.Contains(body, `action="/signin"`) || !strings.Contains(body, `name="next" value="/team?team=web"`) {
			t.Errorf("without a token: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := serve(h, newRequest("/csv/team/cycle?team=web")); resp.StatusCode != 401 {
			t.Errorf("CSV without a token: %d", resp.StatusCode)
		}
		if resp, _ := serve(h, newRequest("/assets/style.css")); resp.StatusCode != 200 {
			t.Errorf("assets need no token: %d", resp.StatusCode)
		}
		r := newRequest("/")
		r.Header.Set("Authorization", "Bearer "+token)
		if resp, _ := serve(h, r); resp.StatusCode != 200 {
			t.Errorf("bearer: %d", resp.StatusCode)
		}
	})
	signIn := func(form url.Values, header map[string]string) *http.Response {
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			r.Header.Set(k, v)
		}
		resp, _ := serve(h, r)
		return resp
	}
	t.Run("wrong token", func(t *testing.T) {
		resp := signIn(url.Values{"token": {"nope"}, "next": {"/"}}, nil)
		if resp.StatusCode != 401 || len(resp.Cookies()) != 0 {
			t.Errorf("%d, %d cookies", resp.StatusCode, len(resp.Cookies()))
		}
	})
	var cookie *http.Cookie
	t.Run("right token sets a strict HttpOnly cookie", func(t *testing.T) {
		resp := signIn(url.Values{"token": {token}, "next": {"/capacity"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/capacity" || len(resp.Cookies()) != 1 {
			t.Fatalf("%d to %q with %d cookies", resp.StatusCode, resp.Header.Get("Location"), len(resp.Cookies()))
		}
		cookie = resp.Cookies()[0]
		if cookie.Name != CookieName || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || strings.Contains(cookie.Value, token) {
			t.Errorf("cookie %+v", cookie)
		}
	})
	t.Run("cookie opens pages and the API check", func(t *testing.T) {
		r := newRequest("/quality")
		r.AddCookie(cookie)
		if resp, _ := serve(h, r); resp.StatusCode != 200 {
			t.Errorf("with the cookie: %d", resp.StatusCode)
		}
		post := httptest.NewRequest("POST", "/api/v1/sql", nil)
		post.AddCookie(cookie)
		post.Header.Set("Sec-Fetch-Site", "same-origin")
		if !SessionOK(post, token) {
			t.Error("same-origin POST with the cookie refused")
		}
		post.Header.Set("Sec-Fetch-Site", "same-site") // another port of the same host
		if SessionOK(post, token) {
			t.Error("cross-origin POST with the cookie accepted")
		}
		if SessionOK(post, "") || SessionOK(post, "other-token") {
			t.Error("cookie accepted for another token")
		}
	})
	t.Run("cross-site sign-in and open redirects refused", func(t *testing.T) {
		resp := signIn(url.Values{"token": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
			t.Errorf("cross-site: %d", resp.StatusCode)
		}
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
			resp := signIn(url.Values{"token": {token}, "next": {next}}, nil)
			if loc := resp.Header.Get("Location"); loc != "/" {
				t.Errorf("next %q redirected to %q", next, loc)
			}
		}
	})
}

func TestLinks(t *testing.T) {
	l := newLinker([]Source{
		{Name: "cloud", Kind: "jira", BaseURL: "https://acme.atlassian.net/"},
		{Name: "dc", Kind: "jira", BaseURL: "https://jira.example.com/jira"},
		{Name: "asana", Kind: "asana", BaseURL: "https://app.asana.com/api/1.0", Workspace: "111"},
		{Name: "asana-old", Kind: "asana", BaseURL: "https://app.asana.com/api/1.0"},
		{Name: "evil", Kind: "jira", BaseURL: "javascript:alert(1)//"},
		{Name: "userinfo", Kind: "jira", BaseURL: "https://user:pw@jira.example.com"},
		{Name: "files", Kind: "csv", BaseURL: "/data"},
	})
	tests := []struct{ source, project, key, want string }{
		{"cloud", "WEB", "WEB-1", "https://acme.atlassian.net/browse/WEB-1"},
		{"dc", "WEB", "WEB-1", "https://jira.example.com/jira/browse/WEB-1"},
		{"asana", "222", "333", "https://app.asana.com/1/111/project/222/task/333"},
		{"asana-old", "222", "333", "https://app.asana.com/0/222/333"},
		{"asana", "", "333", ""},
		{"evil", "WEB", "WEB-1", ""},
		{"userinfo", "WEB", "WEB-1", ""},
		{"files", "WEB", "WEB-1", ""},
		{"unknown", "WEB", "WEB-1", ""},
		{"cloud", "WEB", "a b?c#d", "https://acme.atlassian.net/browse/a%20b%3Fc%23d"},
	}
	for _, tt := range tests {
		if got := l.url(tt.source, tt.project, tt.key); got != tt.want {
			t.Errorf("url(%q, %q, %q) = %q, want %q", tt.source, tt.project, tt.key, got, tt.want)
		}
	}
}

func TestPageCacheFollowsTheModel(t *testing.T) {
	q, p := seedMetrics(t)
	m1, err := Load(context.Background(), q, p)
	if err != nil {
		t.Fatal(err)
	}
	m2 := *m1
	m2.ProblemsTotal = 42
	m2.Problems = nil
	cur := m1
	h, err := New(Options{Model: func() *Model { return cur }})
	if err != nil {
		t.Fatal(err)
	}
	count := func() string {
		_, body := serve(h, newRequest("/quality"))
		i := strings.Index(body, `Input problems <span class="count">`)
		if i < 0 {
			t.Fatal("no problem count on the page")
		}
		rest := body[i+len(`Input problems <span class="count">`):]
		return rest[:strings.Index(rest, "<")]
	}
	if got := count(); got != "1" {
		t.Errorf("first model: %s problems", got)
	}
	if got := count(); got != "1" { // from the cache
		t.Errorf("cached page: %s problems", got)
	}
	cur = &m2
	if got := count(); got != "42" {
		t.Errorf("after the model changed: %s problems, want 42", got)
	}
}
