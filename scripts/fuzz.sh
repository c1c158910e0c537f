#!/bin/sh
# make fuzz: runs each libFuzzer target (tests/fuzz/) for FUZZ_SECONDS under ASan+UBSan, from the
# committed seed corpus (tests/fuzz/corpus/<target>/, read only) plus a working corpus in
# BUILD/fuzz-work/<target>/, and prints executions per second and coverage per target.
# A crash fails the run; its input lands in BUILD/fuzz-work/crashes/: fix the bug, then commit
# the input into tests/fuzz/corpus/<target>/ (named crash-*), where `make check` replays it.
# Usage: scripts/fuzz.sh BUILD SECONDS [TARGET...]
set -eu
cd "$(dirname "$0")/.."
build=$1
seconds=$2
shift 2
targets=${*:-"ini point_grammar enos_reply enos_request modbus_decode modbus_frame control service"}
work=$build/fuzz-work
mkdir -p "$work/crashes"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
status=0
summary=""
for t in $targets; do
  mkdir -p "$work/$t"
  log=$work/$t.log
  echo "fuzz-$t: ${seconds} s ..."
  if ! "$build/fuzz/fuzz-$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$work/crashes/$t-" "$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    status=1
    echo "fuzz-$t: FOUND A PROBLEM; see $log and $work/crashes/" >&2
    grep -E "ERROR|runtime error|fuzz oracle|SUMMARY" "$log" | head -5 >&2 || true
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
  summary="$summary
  $(printf '%-14s %10s execs %8s exec/s  cov %5s  ft %6s  corpus %5s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}")"
done
echo "fieldgate fuzz, $(date -u '+%Y-%m-%d %H:%M') UTC, ${seconds} s per target (cov = edges covered):$summary"
exit $status
