// Command mutate is the test suite's mutation check: it applies small
// deliberate bugs to the rules (metric SQL, the SQL guard, config checks),
// one at a time, in a copy of the working tree, runs the tests of the
// packages that should notice, and reports which mutations survive. A rule
// whose mutation survives has no test that would fail if the rule broke.
//
//	go run ./internal/mutate                 # every mutation in mutations.yaml
//	go run ./internal/mutate -set sql        # only those tagged sql (CI)
//	go run ./internal/mutate -only aging-over-sle,overdue-before-today
//
// A mutation's tests stop at the first failure (-failfast): the report
// names the first test that caught it, not every one.
//
// Each mutation replaces one exact piece of text in one file. The text must
// occur exactly once: when a rule's code changes and the text is gone, the
// mutation is reported stale and must be updated with the rule (see
// internal/mutate/README.md). The exit status is 1 when any mutation
// survives, is stale, or does not build, and when the unmutated tests fail.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Mutation is one deliberate bug.
type Mutation struct {
	ID      string   `yaml:"id"`
	Rule    string   `yaml:"rule"`    // the rule it breaks, in words
	Set     string   `yaml:"set"`     // sql, guard, config, connector
	File    string   `yaml:"file"`    // relative to the repository root
	Find    string   `yaml:"find"`    // exact text, once in File
	Replace string   `yaml:"replace"` // what it becomes
	Tests   []string `yaml:"tests"`   // packages to run (default ./metrics/)
	Run     string   `yaml:"run"`     // optional -run pattern
}

// Outcome is what became of a mutation.
type Outcome struct {
	Mutation
	Result   string // caught, SURVIVED, STALE, NO-BUILD
	CaughtBy []string
	Took     time.Duration
	Output   string
}

func main() {
	list := flag.String("list", "internal/mutate/mutations.yaml", "the mutations")
	set := flag.String("set", "", "only mutations of this set (sql, guard, config, connector)")
	only := flag.String("only", "", "comma-separated mutation ids")
	verbose := flag.Bool("v", false, "print the test output of surviving and failing mutations")
	timeout := flag.Duration("timeout", 10*time.Minute, "time-out of one test run")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *list, *set, *only, *verbose, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, list, set, only string, verbose bool, timeout time.Duration) error {
	ms, err := load(list, set, only)
	if err != nil {
		return err
	}
	root, err := gitRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "throughline-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyTree(root, tmp); err != nil {
		return err
	}

	// The unmutated tests must pass, else every mutation looks caught.
	var pkgs []string
	for _, m := range ms {
		for _, p := range m.Tests {
			if !slices.Contains(pkgs, p) {
				pkgs = append(pkgs, p)
			}
		}
	}
	fmt.Fprintf(out, "baseline: go test %s\n", strings.Join(pkgs, " "))
	if outText, res := goTest(ctx, tmp, pkgs, "", false, timeout); res != nil {
		fmt.Fprintln(out, outText)
		return fmt.Errorf("the unmutated tests fail: %v", res)
	}

	var outcomes []Outcome
	for _, m := range ms {
		o := apply(ctx, tmp, m, timeout)
		outcomes = append(outcomes, o)
		by := strings.Join(o.CaughtBy, ", ")
		fmt.Fprintf(out, "%-9s %-34s %5.1fs  %s\n", o.Result, m.ID, o.Took.Seconds(), by)
		if verbose && o.Result != "caught" {
			fmt.Fprintln(out, o.Output)
		}
	}
	bad := 0
	fmt.Fprintf(out, "\n| mutation | rule | file | result | caught by |\n|---|---|---|---|---|\n")
	for _, o := range outcomes {
		if o.Result != "caught" {
			bad++
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |\n", o.ID, o.Rule, o.File, o.Result, strings.Join(o.CaughtBy, ", "))
	}
	fmt.Fprintf(out, "\n%d of %d mutations caught\n", len(outcomes)-bad, len(outcomes))
	if bad > 0 {
		return fmt.Errorf("%d mutations not caught (survived, stale or not building)", bad)
	}
	return nil
}

func load(list, set, only string) ([]Mutation, error) {
	b, err := os.ReadFile(list)
	if err != nil {
		return nil, fmt.Errorf("read mutations: %w", err)
	}
	var all []Mutation
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&all); err != nil {
		return nil, fmt.Errorf("%s: %w", list, err)
	}
	ids := map[string]bool{}
	var ms []Mutation
	want := map[string]bool{}
	for _, id := range strings.Split(only, ",") {
		if id = strings.TrimSpace(id); id != "" {
			want[id] = true
		}
	}
	for _, m := range all {
		if m.ID == "" || m.File == "" || m.Find == "" || m.Find == m.Replace {
			return nil, fmt.Errorf("%s: mutation %q needs id, file, find and a different replace", list, m.ID)
		}
		if ids[m.ID] {
			return nil, fmt.Errorf("%s: duplicate mutation id %q", list, m.ID)
		}
		ids[m.ID] = true
		if len(m.Tests) == 0 {
			m.Tests = []string{"./metrics/"}
		}
		if set != "" && m.Set != set {
			continue
		}
		if len(want) > 0 && !want[m.ID] {
			continue
		}
		ms = append(ms, m)
	}
	for id := range want {
		if !ids[id] {
			return nil, fmt.Errorf("no mutation %q in %s", id, list)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no mutation selected")
	}
	return ms, nil
}

var failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)

func apply(ctx context.Context, tree string, m Mutation, timeout time.Duration) (o Outcome) {
	o.Mutation = m
	start := time.Now()
	defer func() { o.Took = time.Since(start) }()
	path := filepath.Join(tree, m.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		o.Result, o.Output = "STALE", err.Error()
		return o
	}
	if n := bytes.Count(orig, []byte(m.Find)); n != 1 {
		o.Result, o.Output = "STALE", fmt.Sprintf("%s: the text to mutate occurs %d times (want once)", m.File, n)
		return o
	}
	mutated := bytes.Replace(orig, []byte(m.Find), []byte(m.Replace), 1)
	if err := os.WriteFile(path, mutated, 0o644); err != nil {
		o.Result, o.Output = "STALE", err.Error()
		return o
	}
	defer os.WriteFile(path, orig, 0o644)
	outText, res := goTest(ctx, tree, m.Tests, m.Run, true, timeout)
	o.Output = outText
	switch {
	case res == nil:
		o.Result = "SURVIVED"
	case strings.Contains(outText, "[build failed]") || strings.Contains(outText, "[setup failed]"):
		o.Result = "NO-BUILD"
	default:
		o.Result = "caught"
		seen := map[string]bool{}
		for _, sm := range failLine.FindAllStringSubmatch(outText, -1) {
			top, _, _ := strings.Cut(sm[1], "/")
			if !seen[top] {
				seen[top] = true
				o.CaughtBy = append(o.CaughtBy, top)
			}
		}
		if len(o.CaughtBy) == 0 {
			o.CaughtBy = []string{"(test binary failed: " + lastLine(outText) + ")"}
		}
	}
	return o
}

// equivalenceTests compare the incremental compute with a full one: a
// mutated rule changes both sides alike, so they cannot catch it, and they
// take a minute. The suite runs them; the mutation check leaves them out.
const equivalenceTests = "^(TestIncrementalComputeEqualsFull|TestConfigChangeRecomputesEverything)$"

func goTest(ctx context.Context, dir string, pkgs []string, runPat string, failfast bool, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := []string{"test", "-count=1", "-skip", equivalenceTests}
	if failfast {
		// The first failing test is enough to call a mutation caught.
		args = append(args, "-failfast")
	}
	if runPat != "" {
		args = append(args, "-run", runPat)
	}
	args = append(args, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	b, err := cmd.CombinedOutput()
	return string(b), err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func gitRoot() (string, error) {
	b, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root (run inside the checkout): %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// copyTree copies the files git knows (tracked, and untracked but not
// ignored), as they are in the working tree, so uncommitted work is tested.
func copyTree(root, dst string) error {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("list files: %w", err)
	}
	for _, f := range strings.Split(string(b), "\x00") {
		if f == "" {
			continue
		}
		src := filepath.Join(root, f)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		p := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
