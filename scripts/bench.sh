#!/usr/bin/env bash
# The performance suite of issue #8 at one size, each benchmark in its own
# process (peak RSS is a process-wide high-water mark, so a shared process
# would report the largest benchmark run so far), then a summary table.
#
#   scripts/bench.sh 10k|100k|200k|1m [table]
#
# "table" runs only the end-to-end table of issue #15 (BenchmarkFlowTable:
# read_csv, DuckDB SQL, pandas, Throughline's sync and compute, and the
# refresh after 1 % of the items changed) and prints it with the load
# average before and after (other work on the machine skews every figure).
#
# Size = items.csv rows (ingest), warehouse items (compute, scrape, pandas),
# and a tenth of it in Asana tasks and Jira issues. Overrides:
# THROUGHLINE_BENCH_TASKS, THROUGHLINE_BENCH_ISSUES,
# THROUGHLINE_BENCH_CHANGES (status changes per item, default 10),
# THROUGHLINE_BENCH_MEMORY (DuckDB memory_limit, default here 1200MB),
# THROUGHLINE_BENCH_PYTHON (a python3 with pandas). Raw outputs stay in
# $THROUGHLINE_BENCH_OUT (default a temporary folder, printed at the end).
#
# Columns: ours and baseline are seconds per run (baseline measured in the
# same suite run: DuckDB read_csv, the raw HTTP+JSON decode, pandas); ratio
# is ours ÷ baseline (lower is better); peak RSS is each process's VmHWM in
# MB (ours / baseline when the baseline runs in its own process; the pandas
# baseline is the Python process's own VmHWM). No timing is asserted; a
# benchmark that fails (e.g. pandas and Throughline disagree) makes the
# script exit non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
  10k|10K) size=10000 ;;
  100k|100K) size=100000 ;;
  200k|200K) size=200000 ;;
  1m|1M) size=1000000 ;;
  *) echo "usage: $0 10k|100k|200k|1m [table]" >&2; exit 2 ;;
esac
label=${1,,}
only=${2:-}
# Status changes per item: ~5 at 200k and ~10 otherwise (the sizes of issue #15's table).
default_changes=10
[[ $label == 200k ]] && default_changes=5

export THROUGHLINE_BENCH_ROWS=$size THROUGHLINE_BENCH_ITEMS=$size
export THROUGHLINE_BENCH_TASKS=${THROUGHLINE_BENCH_TASKS:-$((size / 10))}
export THROUGHLINE_BENCH_ISSUES=${THROUGHLINE_BENCH_ISSUES:-$((size / 10))}
export THROUGHLINE_BENCH_CHANGES=${THROUGHLINE_BENCH_CHANGES:-$default_changes}
# DuckDB's memory_limit bounds its buffer manager, not every allocation of
# the process: 1200MB keeps a 1M-item compute under 2 GiB of RSS (1.5-1.6 GB;
# 2GB gave 2.3-2.6 GB), at the same speed or better.
export THROUGHLINE_BENCH_MEMORY=${THROUGHLINE_BENCH_MEMORY:-1200MB}
export CGO_ENABLED=1

out=${THROUGHLINE_BENCH_OUT:-$(mktemp -d /tmp/throughline-bench-XXXXXX)}
mkdir -p "$out"
bin=$out/bench.test
echo "== building the benchmark binary"
go test -c -o "$bin" ./internal/bench/ || exit 1

status=0
# run FILE PATTERN: one benchmark process, output in $out/FILE.txt.
run() {
  local file=$1 pattern=$2
  echo "== $pattern (size $label)"
  (cd internal/bench && "$bin" -test.run '^$' -test.bench "$pattern" -test.benchtime 1x) >"$out/$file.txt" 2>&1
  local rc=$?
  grep -E '^(Benchmark|--- |    |FAIL|ok|PASS)' "$out/$file.txt" | cut -c1-400
  if ((rc != 0)); then
    status=1
    echo "FAIL" >>"$out/$file.txt"
  fi
}

# metric FILE NAME UNIT: the value of UNIT on benchmark NAME's line ("" if none).
metric() {
  awk -v want="$2" -v unit="$3" '
    /^Benchmark/ {
      name = $1; sub(/-[0-9]+$/, "", name)
      if (name != want) next
      for (i = 3; i < NF; i += 2) if ($(i + 1) == unit) { print $i; exit }
    }' "$out/$1.txt" 2>/dev/null
}

# state FILE: ok, skipped or FAIL.
state() {
  if grep -q '^FAIL' "$out/$1.txt"; then echo FAIL
  elif grep -q -- '--- SKIP' "$out/$1.txt"; then echo skipped
  else echo ok; fi
}

secs() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.3f s", v / 1e9 }'; }
fsecs() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.3f s", v }'; }
ratio() { [[ -n "$1" && -n "$2" ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b }'; }
mb() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
int() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' || echo "?"; }

load() { awk '{ print $1 " " $2 " " $3 }' /proc/loadavg; }
load_start=$(load)
export THROUGHLINE_BENCH_FLOW_DIR=$out/flow
run flow_read_csv '^BenchmarkFlowTable$/^read_csv$'
run flow_duckdb '^BenchmarkFlowTable$/^duckdb_sql$'
run flow_pandas '^BenchmarkFlowTable$/^pandas$'
run flow_throughline '^BenchmarkFlowTable$/^throughline$'
rm -rf "$THROUGHLINE_BENCH_FLOW_DIR"
load_flow=$(load)

flow_table() {
  local rc dd pd ts tc rs rcmp rfull items rss prss
  rc=$(metric flow_read_csv BenchmarkFlowTable/read_csv ns/op)
  dd=$(metric flow_duckdb BenchmarkFlowTable/duckdb_sql ns/op)
  pd=$(metric flow_pandas BenchmarkFlowTable/pandas pandas_s)
  ts=$(metric flow_throughline BenchmarkFlowTable/throughline sync_s)
  tc=$(metric flow_throughline BenchmarkFlowTable/throughline compute_s)
  rs=$(metric flow_throughline BenchmarkFlowTable/throughline refresh_sync_s)
  rcmp=$(metric flow_throughline BenchmarkFlowTable/throughline refresh_compute_s)
  rfull=$(metric flow_throughline BenchmarkFlowTable/throughline refresh_full_compute_s)
  items=$(int "$(metric flow_throughline BenchmarkFlowTable/throughline refresh_items)")
  rss=$(mb "$(metric flow_throughline BenchmarkFlowTable/throughline peak-RSS-MB)")
  prss=$(mb "$(metric flow_pandas BenchmarkFlowTable/pandas pandas-peak-RSS-MB)")
  local total rcs
  total=$(awk -v a="$ts" -v b="$tc" 'BEGIN { if (a != "" && b != "") print a + b }')
  rcs=$(awk -v v="$rc" 'BEGIN { if (v != "") print v / 1e9 }')
  echo
  echo "== issue #15 table: $label items, $THROUGHLINE_BENCH_CHANGES changes/item, $(nproc) CPUs, load average $load_start before, $load_flow after"
  echo "| | time |"
  echo "|---|---|"
  echo "| DuckDB's own read_csv of the two files into a table | $(secs "$rc") |"
  echo "| DuckDB SQL alone doing the pandas script's job, straight from the files (results equal pandas') | $(secs "$dd") ($(state flow_duckdb)) |"
  echo "| the pandas script | $(fsecs "$pd") (peak RSS $prss MB) |"
  echo "| throughline sync | $(fsecs "$ts") ($(ratio "$ts" "$rcs") read_csv) |"
  echo "| throughline compute | $(fsecs "$tc") |"
  echo "| sync + compute | $(fsecs "$total") = $(ratio "$total" "$pd") the pandas script (peak RSS $rss MB) |"
  echo "| after 1% of the items changed: sync, compute | $(fsecs "$rs"), $(fsecs "$rcmp") ($items items recomputed; compute $(ratio "$rcmp" "$rfull") a full one of the same data, $(fsecs "$rfull")) |"
}
if [[ $only == table ]]; then
  flow_table
  echo "raw output: $out"
  exit $status
fi

run ingest_connector '^BenchmarkIngestItemsCSV$/^connector$'
run ingest_row_by_row '^BenchmarkIngestItemsCSV$/^row_by_row$'
run ingest_read_csv '^BenchmarkIngestItemsCSV$/^duckdb_read_csv$'
run parse '^BenchmarkParseItemsCSV$'
run compute '^BenchmarkCompute$'
run scrape_large '^BenchmarkScrapeLarge$'
run scrape_demo '^BenchmarkScrapeDemo$'
run pages_large '^BenchmarkPagesLarge$'
run pages_demo '^BenchmarkPagesDemo$'
run pandas '^BenchmarkPandasComparison$'
run asana_connector '^BenchmarkAsanaSync$/^connector$'
run asana_decode '^BenchmarkAsanaSync$/^http_decode$'
jira=0
if grep -q '^func BenchmarkJiraSync(' internal/bench/*_test.go 2>/dev/null; then
  jira=1
  run jira '^BenchmarkJiraSync$'
fi

rows=()
row() { rows+=("$(printf '%s\t%s\t%s\t%s\t%s\t%s' "$@")"); }
note() { local s; s=$(state "$1"); [[ $s == ok ]] && echo "$2" || echo "$s"; }

a=$(metric ingest_connector BenchmarkIngestItemsCSV/connector ns/op)
b=$(metric ingest_read_csv BenchmarkIngestItemsCSV/duckdb_read_csv ns/op)
row "$label" "$(note ingest_connector "CSV ingest, bulk (connector → warehouse) vs read_csv")" "$(secs "$a")" "$(secs "$b")" "$(ratio "$a" "$b")" \
  "$(mb "$(metric ingest_connector BenchmarkIngestItemsCSV/connector peak-RSS-MB)") / $(mb "$(metric ingest_read_csv BenchmarkIngestItemsCSV/duckdb_read_csv peak-RSS-MB)")"
a=$(metric ingest_row_by_row BenchmarkIngestItemsCSV/row_by_row ns/op)
row "$label" "$(note ingest_row_by_row "CSV ingest row by row (the serve path) vs read_csv")" "$(secs "$a")" "$(secs "$b")" "$(ratio "$a" "$b")" \
  "$(mb "$(metric ingest_row_by_row BenchmarkIngestItemsCSV/row_by_row peak-RSS-MB)")"
a=$(metric parse BenchmarkParseItemsCSV ns/op)
row "$label" "$(note parse "row-by-row parse + validate only (vs read_csv)")" "$(secs "$a")" "$(secs "$b")" "$(ratio "$a" "$b")" "$(mb "$(metric parse BenchmarkParseItemsCSV peak-RSS-MB)")"
a=$(metric compute BenchmarkCompute ns/op)
c=$(metric compute BenchmarkCompute changes/item)
row "$label" "$(note compute "compute, steady state (${c:-?} changes/item)")" "$(secs "$a")" "" "" "$(mb "$(metric compute BenchmarkCompute peak-RSS-MB)")"
row "$label" "$(note compute "compute, first run after import")" "$(fsecs "$(metric compute BenchmarkCompute first_s)")" "" "" ""
for s in large demo; do
  n=BenchmarkScrape${s^}
  p50=$(metric scrape_$s $n p50_ms) p99=$(metric scrape_$s $n p99_ms) series=$(int "$(metric scrape_$s $n series)")
  row "$label" "$(note scrape_$s "/metrics scrape, $s ($series series)")" "p50 ${p50:-?} ms, p99 ${p99:-?} ms" "" "" "$(mb "$(metric scrape_$s $n peak-RSS-MB)")"
done
for s in large demo; do
  n=BenchmarkPages${s^}
  for pg in portfolio team milestones milestone capacity quality sql; do
    r50=$(metric pages_$s $n/$pg render_p50_ms)
    [[ -z "$r50" ]] && continue
    row "$label" "$(note pages_$s "web page $pg, $s: render p50/p99, served p99, gzip weight")" \
      "p50 $r50 ms, p99 $(metric pages_$s $n/$pg render_p99_ms) ms; served p99 $(metric pages_$s $n/$pg p99_ms) ms; $(metric pages_$s $n/$pg page_kB_gz) kB" \
      "static asset p99" "$(metric pages_$s $n/$pg ratio_p99)×" ""
  done
  row "$label" "$(note pages_$s "web page model, $s: load after compute (heap $(mb "$(metric pages_$s $n/model model_MB)") MB)")" \
    "$(fsecs "$(metric pages_$s $n/model load_s)")" "" "" "$(mb "$(metric pages_$s $n/model peak-RSS-MB)")"
done
a=$(metric pandas BenchmarkPandasComparison throughline_s)
b=$(metric pandas BenchmarkPandasComparison pandas_s)
w=$(int "$(metric pandas BenchmarkPandasComparison window_items)")
row "$label" "$(note pandas "pandas: ingest + compute vs read + percentiles + weekly (equal; $w in window)")" \
  "$(fsecs "$a") (ingest $(fsecs "$(metric pandas BenchmarkPandasComparison throughline_ingest_s)"))" \
  "$(fsecs "$b") (read $(fsecs "$(metric pandas BenchmarkPandasComparison pandas_read_s)"))" "$(ratio "$a" "$b")" \
  "$(mb "$(metric pandas BenchmarkPandasComparison peak-RSS-MB)") / $(mb "$(metric pandas BenchmarkPandasComparison pandas-peak-RSS-MB)")"
a=$(metric asana_connector BenchmarkAsanaSync/connector ns/op)
b=$(metric asana_decode BenchmarkAsanaSync/http_decode ns/op)
row "$label" "$(note asana_connector "Asana sync, $THROUGHLINE_BENCH_TASKS tasks, vs HTTP+JSON decode")" "$(secs "$a")" "$(secs "$b")" "$(ratio "$a" "$b")" \
  "$(mb "$(metric asana_connector BenchmarkAsanaSync/connector peak-RSS-MB)") / $(mb "$(metric asana_decode BenchmarkAsanaSync/http_decode peak-RSS-MB)")"
if ((jira)); then
  # Sub-benchmarks in declaration order: the first is ours, the second the baseline.
  mapfile -t subs < <(awk '/^BenchmarkJiraSync\// { n = $1; sub(/-[0-9]+$/, "", n); print n }' "$out/jira.txt")
  a=$([[ -n "${subs[0]:-}" ]] && metric jira "${subs[0]}" ns/op)
  b=$([[ -n "${subs[1]:-}" ]] && metric jira "${subs[1]}" ns/op)
  [[ -z "${subs[0]:-}" ]] && a=$(metric jira BenchmarkJiraSync ns/op)
  row "$label" "$(note jira "Jira sync, $THROUGHLINE_BENCH_ISSUES issues, vs HTTP+JSON decode")" "$(secs "$a")" "$(secs "$b")" "$(ratio "$a" "$b")" \
    "$(mb "$(metric jira "${subs[0]:-BenchmarkJiraSync}" peak-RSS-MB)")"
else
  row "$label" "Jira sync (no BenchmarkJiraSync yet)" "" "" "" ""
fi

flow_table
echo
echo "== summary: size $label, $(nproc) CPUs, $(go env GOVERSION), $(date -u +%Y-%m-%dT%H:%MZ), load average $load_start at the start, $(load) at the end"
{
  printf 'size\tname\tours\tbaseline\tratio\tpeak RSS MB\n'
  printf '%s\n' "${rows[@]}"
} | column -t -s $'\t'
echo "raw output: $out"
exit $status
