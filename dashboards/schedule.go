package dashboards

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts what config accepts for schedules: 5 fields or a
// descriptor (@hourly, @every 10m).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// SchedulePeriod is the longest gap between consecutive runs of a cron spec
// in loc (nil: UTC), over a week from a Monday in January (no DST change): 15m
// for "*/15 * * * *", 72h for "0 9 * * 1-5". Schedules with gaps of a week or
// more (monthly, say) are followed over four years instead.
func SchedulePeriod(spec string, loc *time.Location) (time.Duration, error) {
	if loc == nil {
		loc = time.UTC
	}
	s, err := cronParser.Parse(spec)
	if err != nil {
		return 0, fmt.Errorf("sync schedule %q: %w", spec, err)
	}
	if c, ok := s.(cron.ConstantDelaySchedule); ok {
		return c.Delay, nil
	}
	const week = 7 * 24 * time.Hour
	first := s.Next(time.Date(2024, time.January, 1, 0, 0, 0, 0, loc))
	if first.IsZero() {
		return 0, fmt.Errorf("sync schedule %q never runs", spec)
	}
	horizon := first.Add(week)
	var longest time.Duration
	// At most one run a minute: a week is 10,080 runs, four years ~2.1 million.
	for t := first; t.Before(horizon); {
		next := s.Next(t)
		if next.IsZero() {
			return 0, fmt.Errorf("sync schedule %q runs only once", spec)
		}
		longest = max(longest, next.Sub(t))
		if longest >= week && horizon.Sub(first) == week {
			horizon = first.AddDate(4, 0, 0)
		}
		t = next
	}
	return longest, nil
}
