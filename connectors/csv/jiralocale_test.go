package csv

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the generated tables of README.md")

// No header name means two columns (in two languages), every confirmed
// name is one the reader knows, and no month abbreviation means two months.
func TestJiraLanguagesAreConsistent(t *testing.T) {
	canon := map[string]string{}
	for _, l := range jiraLanguages {
		known := map[string]bool{}
		for c, names := range l.headers {
			if _, ok := jiraColumnOrder[c]; !ok {
				t.Errorf("%s: canonical column %q is not in jiraColumnOrder (README table)", l.code, c)
			}
			for _, n := range names {
				k := normHeader(n)
				known[k] = true
				if prev, ok := canon[k]; ok && prev != c {
					t.Errorf("%s: header %q means %q here and %q in another language", l.code, n, c, prev)
				}
				canon[k] = c
			}
		}
		for _, p := range l.custom {
			known[normHeader(p)] = true
		}
		for _, n := range l.confirmed {
			if !known[normHeader(n)] {
				t.Errorf("%s: confirmed header %q is not one of the language's names", l.code, n)
			}
		}
	}
	// jiraMonths is a map: a key cannot repeat; check each language's
	// abbreviations are there, in order, as Java writes them.
	for lang, ms := range map[string][]string{
		"es":    {"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
		"pt-BR": {"jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"},
		"de":    {"jan", "feb", "märz", "apr", "mai", "juni", "juli", "aug", "sept", "okt", "nov", "dez"},
		"fr":    {"janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc"},
		"it":    {"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
		"nl":    {"jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"},
		"pl":    {"sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru"},
	} {
		for i, m := range ms {
			if got := jiraMonths[m]; got != time.Month(i+1) {
				t.Errorf("%s month %q reads as %v, want %v", lang, m, got, time.Month(i+1))
			}
		}
	}
}

// TestJiraLanguageOf: the language is the one whose own names match most.
func TestJiraLanguageOf(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   string
	}{
		{"Summary,Issue key,Issue id,Status,Created", "en"},
		{"Resumo,Chave da item,ID da item,Tipo de item,Status,Chave do projeto,Resolução,Responsável,Criado,Atualizado(a),Resolvido,Categoria do status,Categoria do status alterada", "pt-BR"},
		{"Zusammenfassung,Vorgangsschlüssel,Vorgangs-ID,Status,Erstellt", "de"},
		{"Résumé,Clé de ticket,ID de ticket,Création", "fr"},
		{"Resumen,Clave de incidencia,Creada,Estado", "es"},
	} {
		if got := jiraLanguageOf(strings.Split(tt.header, ",")); got != tt.want {
			t.Errorf("language of %q = %s, want %s", tt.header, got, tt.want)
		}
	}
}

// jiraColumnOrder orders the README table and says what each column feeds.
var jiraColumnOrder = map[string]struct {
	n    int
	maps string
}{
	"issue key": {0, "`work_items.key` (required)"}, "issue id": {1, "`external_id`; resolves Parent / Parent id"},
	"summary": {2, "`title`"}, "issue type": {3, "`item_type`"}, "status": {4, "`status`"},
	"status category":         {5, "`status_category` (the item's own: decides its stage)"},
	"status category changed": {6, "time of the last category change: the start of an in-progress issue, the finish of a done one without Resolved"},
	"resolution":              {7, "`resolution` (discarded when in the list); done when no category says otherwise"},
	"created":                 {8, "`created_at` (required)"}, "updated": {9, "`updated_at`; the approximate finish of a done issue without Resolved or Status Category Changed"},
	"resolved": {10, "`resolved_at`; the finish of a done issue"}, "due date": {11, "`due_date`"},
	"project key": {12, "`projects.key` (else the key's prefix)"}, "project name": {13, "`projects.name`"},
	"assignee": {14, "assignee's display name"}, "assignee id": {15, "`assignee_id` (else the name)"},
	"reporter": {16, "author of the creation (when no Creator)"}, "reporter id": {17, "author's id"},
	"creator": {18, "author of the creation"}, "creator id": {19, "author's id"},
	"fix versions": {20, "`milestones` (first: the item's milestone)"}, "original estimate": {21, "`estimate_seconds` (seconds)"},
	"log work": {22, "`worklogs` (`comment;started;author;seconds`)"},
	"parent":   {23, "`parent_id` (an issue id or key in the files)"}, "parent key": {24, "`parent_id`"},
	"parent id": {25, "`parent_id` (Data Center: an issue id)"}, "epic link": {26, "`parent_id` (Data Center's epic)"},
}

func jiraHeaderTable() string {
	var b strings.Builder
	b.WriteString("| column | ")
	var langs []string
	for _, l := range jiraLanguages {
		langs = append(langs, l.code)
	}
	b.WriteString(strings.Join(langs, " | "))
	b.WriteString(" | feeds |\n|---|")
	b.WriteString(strings.Repeat("---|", len(langs)+1))
	b.WriteString("\n")
	cols := make([]string, 0, len(jiraColumnOrder))
	for c := range jiraColumnOrder {
		cols = append(cols, c)
	}
	slices.SortFunc(cols, func(a, b string) int { return jiraColumnOrder[a].n - jiraColumnOrder[b].n })
	cell := func(l jiraLanguage, names []string) string {
		var out []string
		for _, n := range names {
			if slices.ContainsFunc(l.confirmed, func(c string) bool { return normHeader(c) == normHeader(n) }) {
				n += " ✓"
			}
			out = append(out, n)
		}
		if len(out) == 0 {
			return "–"
		}
		return strings.Join(out, " / ")
	}
	for _, c := range cols {
		b.WriteString("| " + c + " | ")
		for _, l := range jiraLanguages {
			b.WriteString(cell(l, l.headers[c]) + " | ")
		}
		b.WriteString(jiraColumnOrder[c].maps + " |\n")
	}
	b.WriteString("| custom field prefix | ")
	for _, l := range jiraLanguages {
		var ps []string
		for _, p := range l.custom {
			ps = append(ps, strings.TrimSuffix(p, " ("))
		}
		b.WriteString(cell(l, ps) + " | ")
	}
	b.WriteString("`Custom field (Story Points)`, `(Story point estimate)` → `story_points`; `([CHART] Time in Status)` → history |\n")
	return b.String()
}

// README.md's header table is generated from jiraLanguages; -update
// rewrites it.
func TestREADMEJiraHeaders(t *testing.T) {
	const begin, end = "<!-- jira headers: generated by TestREADMEJiraHeaders (go test ./connectors/csv -run README -update) -->\n", "<!-- end of jira headers -->"
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q … %q", begin, end)
	}
	want := s[:i+len(begin)] + jiraHeaderTable() + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile("README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's Jira header table is stale: go test ./connectors/csv -run README -update")
}
