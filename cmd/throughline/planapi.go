package main

import "github.com/throughline/throughline/metrics/plan"

// planInputs are the planner's inputs in the pages' model (loaded after
// each compute), for POST /api/v1/plan; nil before the first.
func (p *pipeline) planInputs() *plan.Inputs {
	if p.pages == nil {
		return nil
	}
	if m := p.pages.Model(); m != nil {
		return m.Plan
	}
	return nil
}
