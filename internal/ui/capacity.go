package ui

import (
	"net/http"
	"slices"
	"strings"

	"github.com/throughline/throughline/docs"
)

type capacityData struct {
	Available []ProjectCapacity
	Teams     []teamSummary
}

func buildCapacity(m *Model, r *http.Request) (*page, int) {
	p := &page{}
	names := teamNames(m)
	p.Filters = filters{Team: pick(r.URL.Query().Get("team"), names), Teams: names}
	keep := func(team string) bool { return p.Filters.Team == "" || team == p.Filters.Team }
	heat := p.addTable("allocation", "Allocation per team and week", "team", "week", "week offset", "ratio", "kind")
	hours := p.addTable("hours", "Capacity, planned and logged hours", "team", "week", "capacity hours", "planned hours", "logged hours")
	mix := p.addTable("mix", "Project and operational load", "team", "week", "kind", "project hours", "operational hours", "unclassified hours")
	type cell struct {
		Team  string  `json:"team"`
		Week  string  `json:"week"`
		Ratio float64 `json:"ratio"`
		Kind  string  `json:"kind"`
	}
	type line struct {
		Team   string  `json:"team"`
		Week   string  `json:"week"`
		Series string  `json:"series"`
		Hours  float64 `json:"hours"`
	}
	type bar struct {
		Team  string  `json:"team"`
		Week  string  `json:"week"`
		Class string  `json:"class"`
		Hours float64 `json:"hours"`
		Kind  string  `json:"kind"`
	}
	var cells []cell
	var lines []line
	var bars []bar
	for _, c := range m.Capacity {
		if !keep(c.Team) {
			continue
		}
		kind := "planned"
		if c.Offset < 0 {
			kind = "logged"
		}
		w := day(c.Week)
		heat.add(c.Team, w, itoa(c.Offset), optFloat(c.Ratio, c.HasRatio, 3), kind)
		if c.HasRatio {
			cells = append(cells, cell{c.Team, w, c.Ratio, kind})
		}
		hours.add(c.Team, w, fmtFloat(c.Capacity, 1), optFloat(c.Planned, c.HasPlanned, 1), fmtFloat(c.Logged, 1))
		lines = append(lines, line{c.Team, w, "capacity", c.Capacity})
		if c.HasPlanned {
			lines = append(lines, line{c.Team, w, "planned", c.Planned})
		}
		if c.Offset <= 0 {
			lines = append(lines, line{c.Team, w, "logged", c.Logged})
		}
		pr, op, un := c.LoggedProject, c.LoggedOperational, c.LoggedUnclass
		if c.Offset >= 0 {
			pr, op, un = c.PlannedProject, c.PlannedOperational, c.PlannedUnclass
			kind = "planned"
		}
		mix.add(c.Team, w, kind, fmtFloat(pr, 1), fmtFloat(op, 1), fmtFloat(un, 1))
		for _, x := range []struct {
			class string
			h     float64
		}{{"project", pr}, {"operational", op}, {"unclassified", un}} {
			bars = append(bars, bar{c.Team, w, x.class, x.h, kind})
		}
	}
	p.chart("allocation", map[string]any{"cells": cells, "thisWeek": day(weekStart(m.Today))})
	p.chart("hours", lines)
	p.chart("mix", map[string]any{"bars": bars, "thisWeek": day(weekStart(m.Today))})
	av := p.addTable("available", "Project capacity available, next 4 weeks", "team", "weeks", "capacity hours",
		"operational P85 hours per week", "planned project hours", "available hours")
	d := &capacityData{}
	for _, a := range m.Available {
		if !keep(a.Team) {
			continue
		}
		d.Available = append(d.Available, a)
		av.add(a.Team, itoa(a.Weeks), fmtFloat(a.Capacity, 1), fmtFloat(a.OperationalP85, 1), fmtFloat(a.PlannedProject, 1), fmtFloat(a.Av, 1))
	}
	for _, t := range m.Teams {
		if keep(t.Name) {
			d.Teams = append(d.Teams, summarize(m, t))
		}
	}
	p.Data = d
	return p, http.StatusOK
}

type qualityData struct {
	Quality  []QualityRow
	Problems []Problem
	Total    int
	Syncs    []Run
	Computes []Run
	Sources  []SourceStatus
	Max      int
}

func buildQuality(m *Model, r *http.Request) (*page, int) {
	p := &page{}
	var sources []string
	for _, s := range m.Sources {
		sources = append(sources, s.Name)
	}
	src := pick(r.URL.Query().Get("source"), sources)
	p.Filters = filters{Source: src, Sources: sources}
	keep := func(s string) bool { return src == "" || s == src }
	d := &qualityData{Total: m.ProblemsTotal, Computes: m.Computes, Max: MaxProblems}
	qt := p.addTable("checks", "Data-quality checks", "source", "check", "items", "example keys")
	for _, q := range m.Quality {
		if keep(q.Source) {
			d.Quality = append(d.Quality, q)
			qt.add(q.Source, q.Check, itoa(q.Items), q.Examples)
		}
	}
	pt := p.addTable("problems", "Input problems", "source", "file", "line", "column", "key", "reason", "observed")
	for _, x := range m.Problems {
		if keep(x.Source) {
			d.Problems = append(d.Problems, x)
			pt.add(x.Source, x.File, itoa(x.Line), x.Column, x.Key, x.Reason, x.At.In(m.Location).Format("2006-01-02 15:04:05"))
		}
	}
	st := p.addTable("syncs", "Sync runs", "source", "status", "started", "finished", "records", "problems", "error")
	for _, x := range m.Syncs {
		if keep(x.Source) {
			d.Syncs = append(d.Syncs, x)
			st.add(x.Source, x.Status, stamp(m, x.Started), stamp(m, x.Finished), itoa(x.Items), itoa(x.Problems), x.Error)
		}
	}
	ct := p.addTable("computes", "Compute runs", "job", "status", "started", "finished", "error")
	for _, x := range m.Computes {
		ct.add(x.Source, x.Status, stamp(m, x.Started), stamp(m, x.Finished), x.Error)
	}
	for _, s := range m.Sources {
		if keep(s.Name) {
			d.Sources = append(d.Sources, s)
		}
	}
	p.Data = d
	return p, http.StatusOK
}

type sqlData struct {
	Schema   []Table
	Examples []docs.Query
}

func buildSQL(m *Model, _ *http.Request) (*page, int) {
	p := &page{}
	d := &sqlData{Examples: docs.Cookbook()}
	if m != nil {
		d.Schema = m.Schema
	}
	// Tables PMOs query most first, then the rest alphabetically.
	first := []string{"item_flow", "work_items", "cycle_time_stats", "throughput_weekly", "milestone_status", "aging_wip", "utilization_weekly"}
	d.Schema = slices.Clone(d.Schema)
	slices.SortStableFunc(d.Schema, func(a, b Table) int {
		ia, ib := slices.Index(first, a.Name), slices.Index(first, b.Name)
		if ia < 0 {
			ia = len(first)
		}
		if ib < 0 {
			ib = len(first)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a.Name, b.Name)
	})
	p.Data = d
	return p, http.StatusOK
}
