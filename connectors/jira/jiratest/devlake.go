package jiratest

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// DevLakeDir is the folder, relative to this package, holding the DevLake
// Jira e2e fixtures (Apache-2.0, see its README).
const DevLakeDir = "testdata/devlake"

// readRaw reads a DevLake raw table and keeps the rows of connection 2
// (and board 8 when the row names a board).
func readRaw(path string) ([]Object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open raw table: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", filepath.Base(path), err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	pi, pok := col["params"]
	di, dok := col["data"]
	if !pok || !dok {
		return nil, fmt.Errorf("%s: no params or data column", filepath.Base(path))
	}
	var out []Object
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		var params struct {
			ConnectionID int `json:"ConnectionId"`
			BoardID      int `json:"BoardId"`
		}
		if err := json.Unmarshal([]byte(rec[pi]), &params); err != nil {
			return nil, fmt.Errorf("%s: params: %w", filepath.Base(path), err)
		}
		if params.ConnectionID != 2 || (params.BoardID != 0 && params.BoardID != 8) {
			continue
		}
		var o Object
		if err := json.Unmarshal([]byte(rec[di]), &o); err != nil {
			return nil, fmt.Errorf("%s: data: %w", filepath.Base(path), err)
		}
		out = append(out, o)
	}
	return out, nil
}

// LoadDevLake builds a Dataset from the DevLake Jira e2e raw tables in dir
// (see DevLakeDir): the 30 issues EE-1…EE-37 of connection 2, board 8 with
// their fields exactly as captured, their embedded changelogs sorted oldest
// first, their worklogs, the statuses, the four real status categories, the
// project, board 8 with its sprints, and the two captured fields. Users,
// resolutions and versions are collected from the issues.
func LoadDevLake(dir string) (*Dataset, error) {
	issues, err := readRaw(filepath.Join(dir, "_raw_jira_api_issues.csv"))
	if err != nil {
		return nil, err
	}
	d := &Dataset{StatusCategories: StatusCategories(), Versions: map[string][]Object{}}
	seenProject, seenUser, seenRes, seenVer := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, o := range issues {
		fields, _ := o["fields"].(Object)
		is := &Issue{ID: fmt.Sprint(o["id"]), Key: fmt.Sprint(o["key"]), Fields: fields, ds: d}
		if cl, isObj := o["changelog"].(Object); isObj {
			hs, _ := cl["histories"].([]any)
			for _, h := range hs {
				if ho, isObj := h.(Object); isObj {
					is.Histories = append(is.Histories, ho)
				}
			}
		}
		slices.SortStableFunc(is.Histories, func(a, b Object) int {
			ta, _ := parseTime(a["created"])
			tb, _ := parseTime(b["created"])
			na, _ := strconv.ParseInt(fmt.Sprint(a["id"]), 10, 64)
			nb, _ := strconv.ParseInt(fmt.Sprint(b["id"]), 10, 64)
			return cmp.Or(ta.Compare(tb), cmp.Compare(na, nb))
		})
		d.Issues = append(d.Issues, is)

		p, _ := fields["project"].(Object)
		pkey := fmt.Sprint(p["key"])
		if p != nil && !seenProject[pkey] {
			seenProject[pkey] = true
			d.Projects = append(d.Projects, p)
		}
		for _, k := range []string{"assignee", "reporter", "creator"} {
			if u, isObj := fields[k].(Object); isObj && !seenUser[fmt.Sprint(u["accountId"])] {
				seenUser[fmt.Sprint(u["accountId"])] = true
				d.Users = append(d.Users, u)
			}
		}
		if r, isObj := fields["resolution"].(Object); isObj && !seenRes[fmt.Sprint(r["id"])] {
			seenRes[fmt.Sprint(r["id"])] = true
			d.Resolutions = append(d.Resolutions, r)
		}
		fv, _ := fields["fixVersions"].([]any)
		for _, v := range fv {
			if vo, isObj := v.(Object); isObj && !seenVer[fmt.Sprint(vo["id"])] {
				seenVer[fmt.Sprint(vo["id"])] = true
				vo = shallow(vo)
				pid, _ := strconv.Atoi(fmt.Sprint(p["id"]))
				vo["projectId"] = pid
				d.Versions[pkey] = append(d.Versions[pkey], vo)
			}
		}
	}
	slices.SortStableFunc(d.Issues, func(a, b *Issue) int { return cmp.Compare(idNum(a), idNum(b)) })

	if d.Statuses, err = readRaw(filepath.Join(dir, "_raw_jira_api_status.csv")); err != nil {
		return nil, err
	}
	if d.Fields, err = readRaw(filepath.Join(dir, "_raw_jira_api_issue_fields.csv")); err != nil {
		return nil, err
	}
	wls, err := readRaw(filepath.Join(dir, "_raw_jira_api_worklogs.csv"))
	if err != nil {
		return nil, err
	}
	byID := map[string]*Issue{}
	for _, is := range d.Issues {
		byID[is.ID] = is
	}
	for _, w := range wls {
		is := byID[fmt.Sprint(w["issueId"])]
		if is == nil {
			continue
		}
		upd, _ := parseTime(w["updated"])
		is.Worklogs = append(is.Worklogs, &Worklog{Object: w, Updated: upd})
	}
	for _, is := range d.Issues {
		slices.SortStableFunc(is.Worklogs, func(a, b *Worklog) int {
			ta, _ := parseTime(a.Object["created"])
			tb, _ := parseTime(b.Object["created"])
			return ta.Compare(tb)
		})
	}
	sprints, err := readRaw(filepath.Join(dir, "_raw_jira_api_sprints.csv"))
	if err != nil {
		return nil, err
	}
	d.Boards = []*Board{{
		Object: Object{"id": 8, "self": "https://merico.atlassian.net/rest/agile/1.0/board/8", "name": "迭代开发看板（停用）", "type": "scrum",
			"location": Object{"projectId": 10003, "projectKey": "EE", "projectName": "Enterprise Edition", "projectTypeKey": "software",
				"displayName": "Enterprise Edition (EE)", "name": "Enterprise Edition (EE)"}},
		Configuration: devLakeBoardConfig(d),
		Sprints:       sprints,
	}}
	return d, nil
}

// devLakeBoardConfig is a board configuration for board 8: one column per
// status category, with the statuses of that category, and the story point
// field DevLake's e2e test configures (customfield_10024).
func devLakeBoardConfig(d *Dataset) Object {
	cols := []Object{{"name": "To Do"}, {"name": "In Progress"}, {"name": "Done"}}
	idx := map[string]int{"new": 0, "indeterminate": 1, "done": 2}
	lists := make([][]Object, 3)
	for _, st := range d.Statuses {
		if st["scope"] != nil {
			continue
		}
		sc, _ := st["statusCategory"].(Object)
		if i, found := idx[fmt.Sprint(sc["key"])]; found {
			lists[i] = append(lists[i], Object{"id": st["id"], "self": st["self"]})
		}
	}
	for i := range cols {
		cols[i]["statuses"] = lists[i]
	}
	return Object{
		"id": 8, "name": "迭代开发看板（停用）", "type": "scrum",
		"filter":       Object{"id": "10010", "self": "https://merico.atlassian.net/rest/api/2/filter/10010"},
		"columnConfig": Object{"columns": cols, "constraintType": "issueCount"},
		"estimation":   Object{"type": "field", "field": Object{"fieldId": "customfield_10024", "displayName": "Story Points"}},
		"ranking":      Object{"rankCustomFieldId": 10019},
		"location":     Object{"type": "project", "key": "EE", "id": "10003", "name": "Enterprise Edition"},
	}
}

// DevLakeLeadMinutes reads DevLake's expected lead times from dir's
// issues.csv: issue_key → lead_time_minutes, skipping empty values.
func DevLakeLeadMinutes(dir string) (map[string]int64, error) {
	f, err := os.Open(filepath.Join(dir, "issues.csv"))
	if err != nil {
		return nil, fmt.Errorf("open issues.csv: %w", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read issues.csv: %w", err)
	}
	if len(rows) == 0 {
		return nil, errors.New("issues.csv is empty")
	}
	ki, li := slices.Index(rows[0], "issue_key"), slices.Index(rows[0], "lead_time_minutes")
	if ki < 0 || li < 0 {
		return nil, errors.New("issues.csv: no issue_key or lead_time_minutes column")
	}
	out := map[string]int64{}
	for _, r := range rows[1:] {
		if r[li] == "" {
			continue
		}
		n, err := strconv.ParseInt(r[li], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("issues.csv: %s lead_time_minutes: %w", r[ki], err)
		}
		out[r[ki]] = n
	}
	return out, nil
}
