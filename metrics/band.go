package metrics

// Allocation bands (metrics.md, Capacity).
const (
	BandUnder   = "under-loaded"
	BandHealthy = "healthy"
	BandWarning = "warning"
	BandOver    = "over-allocated"
)

// Band names an allocation ratio (planned load ÷ capacity) by the bands of
// metrics.md: < 0.6 under-loaded, 0.6–0.85 healthy, 0.85–1.0 warning,
// > 1.0 over-allocated (0.85 itself is healthy, 1.0 a warning).
func Band(ratio float64) string {
	switch {
	case ratio > 1:
		return BandOver
	case ratio > 0.85:
		return BandWarning
	case ratio >= 0.6:
		return BandHealthy
	}
	return BandUnder
}
