package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The real Prometheus (Debian package) for the end-to-end tests.

// prometheusBin finds a binary of the prometheus package: required in CI
// (the CI variable is set), skipped elsewhere.
func prometheusBin(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found and CI is set: .ci/run installs it (apt-get install prometheus): %v", name, err)
		}
		t.Skipf("%s not found: apt-get install prometheus to run the end-to-end test", name)
	}
	return p
}

// startPrometheus runs the real Prometheus with the config text on the
// TSDB folder tsdb, until the test ends, and returns its API base URL
// (http://addr/api/v1/). A free port is one a listener had a moment ago:
// another process may take it before Prometheus binds it, so a start that
// fails to bind is retried on another port.
func startPrometheus(t *testing.T, dir, config, tsdb string, extra ...string) string {
	t.Helper()
	bin := prometheusBin(t, "prometheus")
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		logPath := filepath.Join(dir, fmt.Sprintf("prometheus-%d.log", attempt))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, append([]string{"--config.file=" + cfgPath, "--storage.tsdb.path=" + tsdb,
			"--web.listen-address=" + addr, "--log.level=warn"}, extra...)...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		ready := false
		deadline := time.Now().Add(30 * time.Second)
		for !ready && time.Now().Before(deadline) {
			select {
			case err := <-exited:
				logFile.Close()
				b, _ := os.ReadFile(logPath)
				if strings.Contains(string(b), "address already in use") && attempt < 5 {
					t.Logf("prometheus could not bind %s (taken meanwhile); retrying on another port", addr)
					goto next
				}
				t.Fatalf("prometheus exited: %v\n%s", err, b)
			case <-time.After(100 * time.Millisecond):
			}
			if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
				resp.Body.Close()
				ready = resp.StatusCode == 200
			}
		}
		if !ready {
			cmd.Process.Kill()
			<-exited
			b, _ := os.ReadFile(logPath)
			t.Fatalf("prometheus not ready after 30 s:\n%s", b)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
			logFile.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logPath)
				t.Logf("prometheus log:\n%s", b)
			}
		})
		return "http://" + addr + "/api/v1/"
	next:
	}
}

// promSample is one series of an instant query.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	Values [][2]any          `json:"values"` // range vectors (a matrix)
}

// float is the sample's value.
func (s promSample) float() float64 {
	v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
	return v
}

type promResult struct {
	Status    string `json:"status"`
	Error     string `json:"error"`
	ErrorType string `json:"errorType"`
	Data      struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	} `json:"data"`
}

// promQuery runs an instant query (at: zero for now).
func promQuery(api, expr string, at ...time.Time) (promResult, error) {
	var r promResult
	u := api + "query?query=" + url.QueryEscape(expr)
	if len(at) > 0 {
		u += "&time=" + strconv.FormatFloat(float64(at[0].UnixMilli())/1000, 'f', 3, 64)
	}
	err := promGet(u, &r)
	if err == nil && r.Status != "success" {
		err = fmt.Errorf("status %s: %s: %s", r.Status, r.ErrorType, r.Error)
	}
	return r, err
}

type promGroup struct {
	Name  string `json:"name"`
	Rules []struct {
		Name      string `json:"name"`
		Health    string `json:"health"`
		LastError string `json:"lastError"`
	} `json:"rules"`
}

func promRules(api string) ([]promGroup, error) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Groups []promGroup `json:"groups"`
		} `json:"data"`
	}
	if err := promGet(api+"rules", &r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("rules: status %s", r.Status)
	}
	return r.Data.Groups, nil
}

func promGet(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %s: %w", resp.Status, b, err)
	}
	return nil
}

// waitFor polls cond every 100 ms until it holds or timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (%s)", what, timeout, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
