#!/usr/bin/env python3
"""What a PMO would write instead of Throughline: cycle-time percentiles and
weekly throughput from a CSV export, with pandas.

Reads the folder internal/bench's BenchmarkPandasComparison generates (the
throughline CSV layout: items.csv and status_changes.csv) and prints one JSON
object on stdout:

  read_seconds, compute_seconds, seconds   wall time of reading the CSVs, of
                                           computing, and both (import of
                                           pandas and interpreter start-up
                                           excluded)
  items, status_changes                    rows read
  peak_rss_bytes                           this process's VmHWM
  cycle_time   per team and work class, plus the '*' totals (team '*', class
               '*', both), as in cycle_time_stats: items, and nearest-rank
               P50/P70/P85/P95 of flow_days and of cycle_seconds, over the
               completed items finished in the trailing window
  throughput_weekly  completed items per ISO week (Monday start), team and
               work class (weeks with none are left out)

Definitions (docs/performance.md and /design/metrics.md):
  S = the first change from a to-do status into a started status,
  F = the last change into a done status, for items whose status is done now;
  flow_days = date(F) - date(S) + 1 with dates in --tz, cycle_seconds = F - S;
  in the window when today - window_days < date(F) <= today (today in --tz);
  nearest rank: the value at rank ceil(p * n) of the sorted list.

These are the straightforward definitions. They equal Throughline's item_flow
rules only for histories without false starts (started -> to do) and
reopens (done -> anything): the benchmark generator produces none, so both
sides must agree exactly. Statuses are the generator's: To Do; In Progress,
In Review, Blocked; Done.

Usage: pandas_flow.py --dir DIR --now 2026-01-15T12:00:00Z --tz Europe/Berlin [--window-days 90]
"""

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd

TODO = {"To Do"}
STARTED = {"In Progress", "In Review", "Blocked"}
DONE = {"Done"}
PCTS = (50, 70, 85, 95)


def nearest_rank(df, keys, col, prefix):
    """Nearest-rank percentiles of col per group of keys: the value at rank
    ceil(p*n), with the rank computed in integers (0.7 * 10 is 7.000000000000001
    in floating point, whose ceiling would be rank 8)."""
    d = df.sort_values(keys + [col], kind="stable")
    g = d.groupby(keys, sort=False)
    pos = g.cumcount().to_numpy() + 1
    n = g[col].transform("size").to_numpy()
    out = None
    for p in PCTS:
        rank = (p * n + 99) // 100
        sel = d.loc[pos == rank, keys + [col]].rename(columns={col: f"p{p}_{prefix}"})
        out = sel if out is None else out.merge(sel, on=keys)
    return out


def peak_rss_bytes():
    """VmHWM of this process. Not getrusage's ru_maxrss: a child that Go
    starts (vfork, then exec) inherits the parent's peak in ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--now", required=True, help="RFC 3339 instant, e.g. 2026-01-15T12:00:00Z")
    ap.add_argument("--tz", default="UTC")
    ap.add_argument("--window-days", type=int, default=90)
    a = ap.parse_args()

    t0 = time.perf_counter()
    items = pd.read_csv(
        f"{a.dir}/items.csv",
        usecols=["key", "status", "team", "work_class"],
        dtype={"key": str, "status": "category", "team": "category", "work_class": "category"},
    )
    changes = pd.read_csv(
        f"{a.dir}/status_changes.csv",
        usecols=["key", "changed_at", "from_status", "to_status"],
        dtype={"key": str, "from_status": "category", "to_status": "category"},
    )
    # No format: ISO 8601 takes pandas' fast parser (an explicit "...%SZ" format
    # is 8x slower in pandas 1.5).
    changes["changed_at"] = pd.to_datetime(changes["changed_at"], utc=True)
    t1 = time.perf_counter()

    starts = changes[changes["from_status"].isin(TODO) & changes["to_status"].isin(STARTED)]
    s = starts.groupby("key")["changed_at"].min().rename("s")
    f = changes[changes["to_status"].isin(DONE)].groupby("key")["changed_at"].max().rename("f")
    done = items[items["status"].isin(DONE)].set_index("key")[["team", "work_class"]]
    done = done.join(f, how="inner").join(s, how="left")
    for c in ("team", "work_class"):
        done[c] = done[c].astype(str)

    day = np.timedelta64(1, "D")
    f_day = done["f"].dt.tz_convert(a.tz).dt.tz_localize(None).dt.normalize()
    today = pd.Timestamp(a.now).tz_convert(a.tz).tz_localize(None).normalize()
    done["f_day"] = f_day

    # Weekly throughput: completed items by the ISO week (Monday) of F, up to today.
    thr = done[done["f_day"] <= today]
    week = thr["f_day"] - thr["f_day"].dt.dayofweek * day
    weekly = (
        thr.assign(week_start=week.dt.strftime("%Y-%m-%d"))
        .groupby(["week_start", "team", "work_class"], sort=True)
        .size()
        .reset_index(name="items")
    )
    weekly = weekly[weekly["items"] > 0]

    # Cycle time over the window: started items, F - S >= 0, F's day in (today - window, today].
    win = done[
        done["s"].notna()
        & (done["f"] >= done["s"])
        & (done["f_day"] > today - a.window_days * day)
        & (done["f_day"] <= today)
    ].copy()
    s_day = win["s"].dt.tz_convert(a.tz).dt.tz_localize(None).dt.normalize()
    win["flow_days"] = ((win["f_day"] - s_day) // day + 1).astype("int64")
    win["cycle_seconds"] = ((win["f"] - win["s"]).dt.total_seconds().round()).astype("int64")
    win = win[["team", "work_class", "flow_days", "cycle_seconds"]]
    # The four grouping sets of cycle_time_stats: (team, class), (team, *), (*, class), (*, *).
    sets = pd.concat(
        [
            win,
            win.assign(work_class="*"),
            win.assign(team="*"),
            win.assign(team="*", work_class="*"),
        ],
        ignore_index=True,
    )
    keys = ["team", "work_class"]
    counts = sets.groupby(keys, sort=True).size().reset_index(name="items")
    ct = counts.merge(nearest_rank(sets, keys, "flow_days", "days"), on=keys)
    ct = ct.merge(nearest_rank(sets, keys, "cycle_seconds", "seconds"), on=keys)
    ct = ct.sort_values(keys)
    t2 = time.perf_counter()

    out = {
        "read_seconds": t1 - t0,
        "compute_seconds": t2 - t1,
        "seconds": t2 - t0,
        "pandas": pd.__version__,
        "peak_rss_bytes": peak_rss_bytes(),
        "items": int(len(items)),
        "status_changes": int(len(changes)),
        "cycle_time": [
            {k: (int(v) if isinstance(v, (np.integer, int)) else v) for k, v in r.items()}
            for r in ct.to_dict("records")
        ],
        "throughput_weekly": [
            {"week_start": r["week_start"], "team": r["team"], "work_class": r["work_class"], "items": int(r["items"])}
            for r in weekly.to_dict("records")
        ],
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
