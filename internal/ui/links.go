package ui

import (
	"net/url"
	"strings"
)

// linker builds the address of an item's page at its source: Jira's browse
// URL, Asana's task URL; CSV items have none.
type linker map[string]linkRule

type linkRule struct {
	kind      string
	base      *url.URL // scheme and host (and path for Jira) of the source
	workspace string
}

func newLinker(sources []Source) linker {
	l := linker{}
	for _, s := range sources {
		if s.Kind != "jira" && s.Kind != "asana" {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(s.BaseURL))
		// Only http(s) addresses with a host: a javascript: or data: base URL
		// never becomes a link.
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			continue
		}
		l[s.Name] = linkRule{kind: s.Kind, base: u, workspace: s.Workspace}
	}
	return l
}

// url is the item's page at its source, or "" when the source has none.
func (l linker) url(source, project, key string) string {
	r, ok := l[source]
	if !ok || key == "" {
		return ""
	}
	switch r.kind {
	case "jira":
		// <site>/browse/<KEY> (a site may live under a context path on Data Center).
		u := *r.base
		u.RawQuery, u.Fragment = "", ""
		u.Path = strings.TrimSuffix(u.Path, "/") + "/browse/" + key
		u.RawPath = ""
		return u.String()
	case "asana":
		// The API base is <host>/api/1.0; the app is served by the same host.
		// Asana's current task address names the workspace and project;
		// /0/<project>/<task> is the older form it still redirects.
		if project == "" {
			return ""
		}
		u := url.URL{Scheme: r.base.Scheme, Host: r.base.Host}
		if r.workspace != "" {
			u.Path = "/1/" + r.workspace + "/project/" + project + "/task/" + key
		} else {
			u.Path = "/0/" + project + "/" + key
		}
		return u.String()
	}
	return ""
}
