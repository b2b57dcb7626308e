package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/throughline/throughline/internal/sqlresult"
	"github.com/throughline/throughline/internal/web"
)

func TestSyncTriggerConflict(t *testing.T) {
	a := New(Options{Trigger: func() bool { return false }, Logger: slog.New(slog.DiscardHandler)})
	srv := web.New(web.Options{})
	a.Register(srv)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/sync", nil))
	var e web.ErrorBody
	json.Unmarshal(rec.Body.Bytes(), &e)
	if rec.Code != http.StatusConflict || e.Code != "conflict" {
		t.Errorf("busy writer: %d %+v; want 409 conflict", rec.Code, e)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept string
		want   sqlresult.Format
		status int
	}{
		{"", sqlresult.JSON, 0},
		{"*/*", sqlresult.JSON, 0},
		{"text/csv", sqlresult.CSV, 0},
		{"text/csv;q=0.9, application/json", sqlresult.CSV, 0},
		{"application/json; charset=utf-8", sqlresult.JSON, 0},
		{"application/vnd.apache.parquet", sqlresult.Parquet, 0},
		{"application/x-parquet", sqlresult.Parquet, 0},
		{"application/vnd.apache.arrow.stream, application/json;q=0.5", sqlresult.Arrow, 0},
		{"application/vnd.apache.arrow.stream;q=0", "", http.StatusNotAcceptable},
		{"image/png", "", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		got, err := Negotiate(tt.accept)
		status := 0
		var re *requestError
		if errors.As(err, &re) {
			status = re.status
		}
		if got != tt.want || status != tt.status {
			t.Errorf("Negotiate(%q) = %q, %v; want %q, %d", tt.accept, got, err, tt.want, tt.status)
		}
	}
}
