package demo

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/throughline/throughline/internal/config"
)

// Config returns the YAML config text for a demo organisation whose CSV
// folder is dataDir and warehouse file is dbPath.
func Config(dataDir, dbPath string) string { return ConfigFor(dataDir, dbPath, nil) }

// JiraSource is the jira source of a demo config: a Jira Cloud site (the
// fake serving Summary.Jira) and the projects it serves.
type JiraSource struct {
	BaseURL, Email string
	TokenEnv       string // the name of the variable holding the token
	Projects       []string
}

// AsanaSource is the asana source of a demo config: the fake Asana server
// serving Summary.Asana and the demo project it carries.
type AsanaSource struct {
	BaseURL  string
	TokenEnv string // the name of the variable holding the token
	Project  string // the demo project key (HELP) the Asana project replaces
}

// Sources are the vendor sources of a demo config besides the CSV folder,
// and the server's address.
type Sources struct {
	Jira  *JiraSource
	Asana *AsanaSource
	// Listen is server.listen (config.DefaultListen when empty).
	Listen string
}

// ConfigFor is Config with a jira source for the projects jira serves
// (nil: CSV only).
func ConfigFor(dataDir, dbPath string, jira *JiraSource) string {
	return ConfigSources(dataDir, dbPath, Sources{Jira: jira})
}

// ConfigSources is Config with the given vendor sources. The Asana
// project's key in the warehouse is its gid (AsanaProjectGID): the team and
// work_class rules that name the demo project by key name the gid instead.
func ConfigSources(dataDir, dbPath string, src Sources) string {
	jira, asana := src.Jira, src.Asana
	projectKey := func(k string) string {
		if asana != nil && k == asana.Project {
			return AsanaProjectGID
		}
		return k
	}
	projectKeys := func(ks []string) []string {
		out := make([]string, len(ks))
		for i, k := range ks {
			out[i] = projectKey(k)
		}
		return out
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Throughline demo organisation, written by `throughline demo`.\n")
	w("# Teams, members and projects match the generated CSV folder.\n")
	w("warehouse: {path: %s, memory_limit: 1GB}\n", quote(dbPath))
	w("timezone: Europe/Berlin\n")
	listen := src.Listen
	if listen == "" {
		listen = config.DefaultListen
	}
	w("server: {listen: %s, sql_token_env: THROUGHLINE_SQL_TOKEN}\n", listen)
	w("schedules: {sync: %s, compute: %s}\n", quote("*/15 * * * *"), quote("*/15 * * * *"))
	w("sources:\n")
	w("  - {name: demo-csv, kind: csv, layout: throughline, path: %s}\n", quote(dataDir))
	if jira != nil {
		w("  # Served by an in-process fake Jira Cloud site while `throughline demo` runs.\n")
		w("  - name: demo-jira\n    kind: jira\n    base_url: %s\n    email: %s\n    token_env: %s\n",
			quote(jira.BaseURL), quote(jira.Email), quote(jira.TokenEnv))
		w("    jql: %s\n", quote("project in ("+strings.Join(jira.Projects, ", ")+")"))
	}
	if asana != nil {
		w("  # Served by an in-process fake Asana server while `throughline demo` runs;\n")
		w("  # project %s is the demo's %s project.\n", AsanaProjectGID, asana.Project)
		w("  - name: demo-asana\n    kind: asana\n    base_url: %s\n    workspace: %s\n    token_env: %s\n",
			quote(asana.BaseURL), quote(asanaWorkspaceGID), quote(asana.TokenEnv))
		w("    projects: %s\n", list([]string{AsanaProjectGID}))
		w("    estimate_field: %s\n    story_points_field: %s\n", quote(AsanaEstimateField), quote(AsanaPointsField))
	}
	w("teams:\n")
	for _, t := range teamDefs {
		members := make([]string, len(t.members))
		for i, m := range t.members {
			members[i] = m.local + "@" + emailDomain
		}
		w("  - name: %s\n", quote(t.name))
		w("    members: %s\n", list(members))
		w("    hours_per_week: %s\n", strconv.FormatFloat(t.hours, 'f', -1, 64))
		w("    wip_limit: %d\n", t.wipLimit)
		if t.sleDays > 0 {
			w("    sle_days: %d\n", t.sleDays)
		} else {
			w("    # no sle_days: the SLE is the P85 of the window\n")
		}
		w("    projects: %s\n", list(projectKeys(t.projects)))
	}
	w("workflow:\n")
	if asana != nil { // Asana's statuses carry no category: name the todo one
		w("  todo: %s\n", list([]string{statusToDo}))
	}
	w("  started: %s\n", list([]string{statusInProgress, statusInReview, statusBlocked}))
	w("  wait: %s\n", list([]string{statusInReview, statusBlocked}))
	done := []string{statusDone}
	if asana != nil { // Asana's discard columns (see asanaSections)
		done = append(done, resWontDo, resDuplicate)
	}
	w("  done: %s\n", list(done))
	w("  discarded_resolutions: %s\n", list([]string{resWontDo, resDuplicate}))
	w("work_class:\n")
	w("  operational: {item_types: %s, projects: %s}\n", list([]string{typeInc, typeRequest}), list(projectKeys([]string{"OPS", "HELP"})))
	w("metrics: {window_days: 90, forecast: {trials: 10000, seed: 1}}\n")
	return b.String()
}

func list(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// quote returns s as a YAML scalar: plain when it is unmistakably a string
// in both block and flow context, else double-quoted with escapes.
func quote(s string) string {
	if plainSafe(s) {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// plainSafe: letters, digits, and . _ @ - / or single inner spaces,
// starting with a letter, and not a word YAML 1.1 readers take for a
// boolean or null.
func plainSafe(s string) bool {
	if s == "" || strings.HasSuffix(s, " ") || strings.Contains(s, "  ") {
		return false
	}
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off", "true", "false", "null", "~":
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && !strings.ContainsRune("._@-/ ", r) {
			return false
		}
	}
	return true
}
