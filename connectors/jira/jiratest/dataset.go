package jiratest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Issue returns the issue with this key (deleted or not), or nil.
func (d *Dataset) Issue(key string) *Issue {
	for _, is := range d.Issues {
		if strings.EqualFold(is.Key, key) {
			is.ds = d
			return is
		}
	}
	return nil
}

// Status returns the status with this id from d.Statuses, or nil.
func (d *Dataset) Status(id string) Object {
	for _, st := range d.Statuses {
		if fmt.Sprint(st["id"]) == id {
			return st
		}
	}
	return nil
}

// nextHistoryID returns an id above every history id in d.
func (d *Dataset) nextHistoryID() int64 {
	var top int64
	for _, is := range d.Issues {
		for _, h := range is.Histories {
			if n, err := strconv.ParseInt(fmt.Sprint(h["id"]), 10, 64); err == nil && n > top {
				top = n
			}
		}
	}
	return top + 1
}

// Transition moves the issue to the status with id toStatusID at time at:
// it appends a status history (from the current status) and updates
// fields.status and fields.updated. The status is looked up in the dataset
// the issue was found in (Dataset.Issue, New, Generate).
func (is *Issue) Transition(at time.Time, author Object, toStatusID string) {
	from := fieldObj(is, "status")
	var to Object
	if is.ds != nil {
		if st := is.ds.Status(toStatusID); st != nil {
			to = Object{"id": st["id"], "name": st["name"], "statusCategory": st["statusCategory"]}
			for _, k := range []string{"self", "description", "iconUrl"} {
				if v, has := st[k]; has {
					to[k] = v
				}
			}
		}
	}
	if to == nil {
		to = Object{"id": toStatusID, "name": toStatusID}
	}
	var hid int64
	if is.ds != nil {
		hid = is.ds.nextHistoryID()
	} else {
		hid = 1
		for _, h := range is.Histories {
			if n, err := strconv.ParseInt(fmt.Sprint(h["id"]), 10, 64); err == nil && n >= hid {
				hid = n + 1
			}
		}
	}
	item := Object{"field": "status", "fieldtype": "jira", "fieldId": "status",
		"from": nil, "fromString": nil, "to": toStatusID, "toString": to["name"]}
	if from != nil {
		item["from"], item["fromString"] = fmt.Sprint(from["id"]), from["name"]
	}
	is.Histories = append(is.Histories, Object{
		"id": strconv.FormatInt(hid, 10), "author": author, "created": formatTime(at),
		"items": []any{item},
	})
	if is.Fields == nil {
		is.Fields = Object{}
	}
	is.Fields["status"] = to
	is.Fields["updated"] = formatTime(at)
}

// DeleteIssue marks the issue deleted at the source; it reports whether
// the issue exists.
func (d *Dataset) DeleteIssue(key string) bool {
	is := d.Issue(key)
	if is == nil {
		return false
	}
	is.Deleted = true
	return true
}

// AddWorklog logs work on the issue at time at. Missing id, issueId,
// created, updated and started are filled in. It returns the new worklog,
// or nil if the issue does not exist.
func (d *Dataset) AddWorklog(key string, w Object, at time.Time) *Worklog {
	is := d.Issue(key)
	if is == nil {
		return nil
	}
	w = shallow(w)
	if _, has := w["id"]; !has {
		var top int64 = 10000
		for _, other := range d.Issues {
			for _, o := range other.Worklogs {
				if n, err := strconv.ParseInt(fmt.Sprint(o.Object["id"]), 10, 64); err == nil && n > top {
					top = n
				}
			}
		}
		w["id"] = strconv.FormatInt(top+1, 10)
	}
	w["issueId"] = is.ID
	for _, k := range []string{"created", "updated", "started"} {
		if _, has := w[k]; !has {
			w[k] = formatTime(at)
		}
	}
	wl := &Worklog{Object: w, Updated: at}
	is.Worklogs = append(is.Worklogs, wl)
	return wl
}

// DeleteWorklog marks the worklog with this id deleted at time at; it
// reports whether the worklog exists.
func (d *Dataset) DeleteWorklog(id string, at time.Time) bool {
	for _, is := range d.Issues {
		for _, w := range is.Worklogs {
			if fmt.Sprint(w.Object["id"]) == id {
				w.Deleted = at
				return true
			}
		}
	}
	return false
}

// SetReleaseDate sets (or, with "", removes) a version's releaseDate; it
// reports whether the version exists.
func (d *Dataset) SetReleaseDate(projectKey, versionName, date string) bool {
	for _, v := range d.Versions[projectKey] {
		if v["name"] == versionName {
			if date == "" {
				delete(v, "releaseDate")
			} else {
				v["releaseDate"] = date
			}
			return true
		}
	}
	return false
}
