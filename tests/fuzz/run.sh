#!/bin/sh
# run.sh - run libFuzzer harnesses for a while each (`make fuzz`).
#
#   tests/fuzz/run.sh SECONDS NAME...     fuzz build-fuzz/fuzz_NAME for SECONDS
#   tests/fuzz/run.sh -regress NAME...    run each harness once over its seed
#                                         corpus (no fuzzing): a quick check
#
# Seeds are read from tests/corpus/fuzz/NAME/ (and, for the snapshot
# harness, tests/corpus/snapshots/); what the fuzzer finds goes to
# build-fuzz/corpus/NAME/, never into the repository. Crashes, leaks,
# timeouts (FUZZ_TIMEOUT seconds per input, default 10) and allocations over
# FUZZ_MALLOC_MB (default 512) are failures, written to
# build-fuzz/artifacts/NAME-*. FUZZ_JOBS harnesses run at once (default 1).
# Each harness's log is build-fuzz/logs/NAME.log; the summary (run time,
# executions, failures per harness) is printed and kept in
# build-fuzz/summary.txt. Exits 1 if any harness failed.
# Run from the repository root.
set -u
out=build-fuzz
timeout=${FUZZ_TIMEOUT:-10}
malloc_mb=${FUZZ_MALLOC_MB:-512}
jobs=${FUZZ_JOBS:-1}
regress=0
if [ "${1:-}" = -regress ]; then
	regress=1
else
	time=${1:?usage: run.sh SECONDS NAME... | run.sh -regress NAME...}
fi
shift
mkdir -p "$out/logs" "$out/artifacts"

seeds_of() {
	echo "tests/corpus/fuzz/$1"
	[ "$1" = snapshot ] && echo tests/corpus/snapshots
}

run_one() {
	name=$1
	bin=$out/fuzz_$name
	log=$out/logs/$name.log
	if [ $regress = 1 ]; then
		# every seed file once, as separate inputs: nothing is written
		files=$(for d in $(seeds_of "$name"); do
			find "$d" -type f ! -name '*.stacks' ! -name README 2>/dev/null
		done)
		# shellcheck disable=SC2086
		"$bin" -timeout="$timeout" -malloc_limit_mb="$malloc_mb" \
			-rss_limit_mb=4096 $files >"$log" 2>&1
		return $?
	fi
	mkdir -p "$out/corpus/$name"
	# inputs of snapshot_mem are lists of damage operations: allow long ones
	extra=""
	[ "$name" = snapshot_mem ] && extra="-max_len=1024"
	# shellcheck disable=SC2046,SC2086
	"$bin" $extra -max_total_time="$time" -timeout="$timeout" \
		-malloc_limit_mb="$malloc_mb" -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/$name-" \
		"$out/corpus/$name" $(seeds_of "$name") >"$log" 2>&1
}

summary() {
	name=$1
	status=$2
	log=$out/logs/$name.log
	if [ $regress = 1 ]; then
		n=$(grep -ac '^Running: ' "$log")
		printf '%-16s %s inputs replayed, %s\n' "$name" "$n" \
			"$([ "$status" = 0 ] && echo ok || echo "FAILED (see $log)")"
		return
	fi
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
	cov=$(grep -aE '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/cov \1, ft \2, corpus \3/p')
	crashes=$(ls "$out/artifacts/$name-"* 2>/dev/null | wc -l)
	printf '%-16s %6ss %12s execs  %s  %s\n' "$name" "${secs:-?}" "${execs:-?}" \
		"${cov:-}" "$([ "$status" = 0 ] && echo "0 failures" || echo "FAILED: $crashes artifact(s), see $log")"
}

rm -f "$out/summary.txt"
fail=0
while [ $# -gt 0 ]; do
	batch=""
	while [ $# -gt 0 ] && [ "$(echo $batch | wc -w)" -lt "$jobs" ]; do
		run_one "$1" &
		eval "pid_$1=\$!"
		batch="$batch $1"
		shift
	done
	for n in $batch; do
		eval "wait \$pid_$n"
		st=$?
		[ $st = 0 ] || fail=1
		summary "$n" $st | tee -a "$out/summary.txt"
	done
done
exit $fail
