package ui

import (
	"context"
	"sync/atomic"

	"github.com/throughline/throughline/internal/config"
)

// Store holds the current page model: loaded after each compute, read by
// every request. The zero Store holds none.
type Store struct{ m atomic.Pointer[Model] }

// Model returns the current model, or nil before the first load.
func (s *Store) Model() *Model { return s.m.Load() }

// Refresh loads a new model and swaps it in; on error the previous model
// stays.
func (s *Store) Refresh(ctx context.Context, q Querier, p Params) error {
	m, err := Load(ctx, q, p)
	if err != nil {
		return err
	}
	s.m.Store(m)
	return nil
}

// ConfigParams are the Load parameters of a config (the caller adds Now
// and Firing).
func ConfigParams(cfg *config.Config) Params {
	p := Params{Location: cfg.Location, WindowDays: cfg.Metrics.WindowDays, Started: cfg.Workflow.Started,
		Trials: cfg.Metrics.Forecast.Trials, Seed: uint64(cfg.Metrics.Forecast.Seed), ForecastMode: cfg.Metrics.Forecast.Mode}
	for _, s := range cfg.Sources {
		p.Sources = append(p.Sources, Source{Name: s.Name, Kind: s.Kind, BaseURL: s.BaseURL, Workspace: s.Workspace})
	}
	return p
}
