package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/throughline/throughline/internal/sqlworker"
	"github.com/throughline/throughline/internal/web"
	"github.com/throughline/throughline/metrics/plan"
)

// handlePlan is POST /api/v1/plan: the assignment planner, JSON in and out
// (metrics/plan), on the inputs of the last compute.
func (a *API) handlePlan(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, err := readPlanRequest(w, r)
	if err != nil {
		web.Error(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	in := a.o.Plan()
	if in == nil {
		web.Error(w, http.StatusServiceUnavailable, "unavailable",
			"no compute has finished yet: the planner has no data; try again after the first compute (GET /readyz)")
		return
	}
	answer, err := in.Plan(req)
	var re *plan.RequestError
	switch {
	case errors.As(err, &re):
		web.Error(w, http.StatusBadRequest, "bad_request", re.Msg)
		return
	case err != nil:
		id := sqlworker.ErrorID()
		a.o.Logger.Error("plan api", "err", err, "error_id", id)
		web.Error(w, http.StatusInternalServerError, "internal", "internal error (error id "+id+" in the server log)")
		return
	}
	a.o.Logger.Info("plan api", "items", req.Items, "hours", req.Hours, "teams", len(answer.Teams), "duration", time.Since(start).Round(time.Millisecond))
	web.JSON(w, http.StatusOK, answer)
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
		return req, errors.New(`want a JSON body like {"items": 40, "due": "2026-04-30"} (fields items or hours, team, project, start, due): ` +
			strings.TrimPrefix(err.Error(), "json: "))
	}
	return req, nil
}
