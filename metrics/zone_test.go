package metrics

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// scanOffsets finds the offset changes the slow way (what the compute did
// before): a six-hourly scan, and a bisection for the second of each change.
// The reference for zoneChanges.
func scanOffsets(loc *time.Location, fromYear, toYear int) [][2]int64 {
	offset := func(u int64) int64 { return zoneOffsetAt(loc, u) }
	from := time.Date(fromYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(toYear, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	out := [][2]int64{{-(1 << 40), offset(from)}}
	const step = 6 * 3600
	for u := from; u < to; u += step {
		if offset(u+step) == offset(u) {
			continue
		}
		lo, hi := u, u+step
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if offset(mid) == offset(u) {
				lo = mid
			} else {
				hi = mid
			}
		}
		if hi < to {
			out = append(out, [2]int64{hi, offset(hi)})
		}
	}
	return out
}

// TestZoneChangesAsScan: the zone's periods give the offset changes a
// six-hourly scan finds, for zones with DST, half-hour and 45-minute offsets,
// skipped days, several changes a year (Casablanca), none (UTC), and
// every zone of the system's tzdata when it has one.
func TestZoneChangesAsScan(t *testing.T) {
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
		"Pacific/Apia", "Africa/Casablanca", "America/Sao_Paulo", "Asia/Tehran", "Pacific/Chatham"}
	if testing.Short() {
		zones = zones[:4]
	} else if root := "/usr/share/zoneinfo"; dirExists(root) {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			name := strings.TrimPrefix(p, root+"/")
			if strings.Contains(name, ".") || strings.HasPrefix(name, "posix") || strings.HasPrefix(name, "right") {
				return nil
			}
			if _, err := time.LoadLocation(name); err == nil && !slices.Contains(zones, name) && len(zones) < 60 {
				zones = append(zones, name)
			}
			return nil
		})
	}
	t.Logf("%d zones", len(zones))
	for _, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			t.Fatalf("load %s: %v", z, err)
		}
		got, want := zoneChanges(loc, 1970, 2100), scanOffsets(loc, 1970, 2100)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %d changes, want %d (first difference at %d)", z, len(got), len(want), firstDiff(got, want))
		}
	}
	// Berlin: +1 h until summer time began on 1980-04-06 at 01:00 UTC, then
	// two changes a year.
	berlin, _ := time.LoadLocation("Europe/Berlin")
	got := zoneChanges(berlin, 1970, 2100)
	if len(got) < 200 || got[0] != [2]int64{-(1 << 40), 3600} || got[1] != [2]int64{323830800, 7200} || got[2][1] != 3600 {
		t.Errorf("Europe/Berlin: %d pairs starting %v: want +1 h, then +2 h from 1980-04-06 01:00 UTC, two changes a year", len(got), got[:min(3, len(got))])
	}
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func firstDiff(a, b [][2]int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
