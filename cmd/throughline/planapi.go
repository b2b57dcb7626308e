package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/throughline/throughline/metrics/plan"
)

// registerPlanAPI adds POST /api/v1/plan (the assignment planner, JSON in
// and out) to mux behind auth, the SQL API's (bearer token, or the pages'
// session cookie from this server's own pages). inputs returns the
// planner's inputs of the last compute, nil before the first.
func registerPlanAPI(mux *http.ServeMux, auth func(http.HandlerFunc) http.Handler, inputs func() *plan.Inputs, logger *slog.Logger) {
	mux.Handle("POST /api/v1/plan", auth(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		req, err := readPlanRequest(w, r)
		if err != nil {
			writeError(w, err)
			return
		}
		in := inputs()
		if in == nil {
			writeError(w, queryErrorf(http.StatusServiceUnavailable, "unavailable", "no compute has finished yet: the planner has no data; try again after the first compute (GET /readyz)"))
			return
		}
		a, err := in.Plan(req)
		var re *plan.RequestError
		switch {
		case errors.As(err, &re):
			writeError(w, queryErrorf(http.StatusBadRequest, "bad_request", "%s", re.Msg))
			return
		case err != nil:
			logger.Error("plan api", "err", err)
			writeError(w, err)
			return
		}
		logger.Info("plan api", "items", req.Items, "hours", req.Hours, "teams", len(a.Teams), "duration", time.Since(start).Round(time.Millisecond))
		writeJSON(w, http.StatusOK, a)
	}))
}

// readPlanRequest decodes the body of POST /api/v1/plan strictly: unknown
// fields are errors that name them.
func readPlanRequest(w http.ResponseWriter, r *http.Request) (plan.Request, error) {
	var req plan.Request
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		return req, queryErrorf(http.StatusBadRequest, "bad_request",
			`want a JSON body like {"items": 40, "due": "2026-04-30"} (fields items or hours, team, project, start, due): %s`,
			strings.TrimPrefix(err.Error(), "json: "))
	}
	return req, nil
}

// planInputs are the planner's inputs in the pages' model (loaded after
// each compute); nil before the first.
func (p *pipeline) planInputs() *plan.Inputs {
	if p.pages == nil {
		return nil
	}
	if m := p.pages.Model(); m != nil {
		return m.Plan
	}
	return nil
}
