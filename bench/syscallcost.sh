#!/usr/bin/env bash
# Syscall cost under the filter (issue 4, "Measured"; docs/benchmarks.md).
#
# Runs BenchmarkSyscallCost (sandbox/syscallcost_test.go) ROUNDS times. Each
# round starts one process per condition (no filter, allow-all,
# allow-uncached, vow, linear) for each call, times ITERS calls in each, in
# interleaved slices, and reports ns/op and the ratios between conditions.
# The table shows the median ns/op over the rounds, the median of the
# rounds' ratios, and the range of the ratio to allow-all.
#
#   bench/syscallcost.sh                    # 10 rounds of 2,000,000 calls
#   ROUNDS=5 ITERS=1000000 bench/syscallcost.sh
#   RAW=out.txt bench/syscallcost.sh        # also keep the benchmark lines
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0

ROUNDS=${ROUNDS:-10}
ITERS=${ITERS:-2000000}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/sandbox.test" ./sandbox

args=(-test.run '^$' -test.bench '^BenchmarkSyscallCost$' -test.benchtime "${ITERS}x" -test.count "$ROUNDS")
echo "# $(uname -srm), $(nproc) of $(nproc --all) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3)"
echo "# go test -c ./sandbox && sandbox.test ${args[*]}"
if ! "$tmp/sandbox.test" "${args[@]}" -test.v >"$tmp/out.txt" 2>&1 ||
	! grep '^BenchmarkSyscallCost/.*-ns/op' "$tmp/out.txt" >"$tmp/lines.txt"; then
	echo "syscallcost: nothing measured:" >&2
	cat "$tmp/out.txt" >&2
	exit 1
fi
if [ -n "${RAW:-}" ]; then cp "$tmp/lines.txt" "$RAW"; fi

# Lines: BenchmarkSyscallCost/CALL-P  N  VALUE UNIT  VALUE UNIT ...
# with units COND-ns/op, COND-insns and COND/BASE.
awk '
function median(key,   n, i, j, v, t) {
	if (!(key in vals)) return ""
	n = split(vals[key], v, " ")
	for (i = 2; i <= n; i++) { t = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
	return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function ratio(key) { return (key in vals) ? sprintf("%.3f", median(key)) : "–" }
function span(key,   n, i, v, lo, hi) {
	if (!(key in vals)) return ""
	n = split(vals[key], v, " ")
	lo = hi = v[1] + 0
	for (i = 2; i <= n; i++) { if (v[i] + 0 < lo) lo = v[i] + 0; if (v[i] + 0 > hi) hi = v[i] + 0 }
	return sprintf("%.3f–%.3f", lo, hi)
}
{
	call = $1; sub(/^BenchmarkSyscallCost\//, "", call); sub(/-[0-9]+$/, "", call)
	if (!(call in seen)) { seen[call] = 1; calls[++ncalls] = call }
	for (i = 3; i < NF; i += 2) vals[call SUBSEP $(i + 1)] = vals[call SUBSEP $(i + 1)] " " $i
}
END {
	nconds = split("none allow-all allow-uncached vow linear", conds, " ")
	printf "| call | filter | BPF insns run | ns/op | × allow-all | (range) | × allow-uncached | × no filter |\n"
	printf "|---|---|---|---|---|---|---|---|\n"
	for (c = 1; c <= ncalls; c++) {
		for (i = 1; i <= nconds; i++) {
			k = calls[c] SUBSEP conds[i]
			ins = median(k "-insns"); if (ins == "") ins = "–"; else if (ins == 0) ins = "0 (cached)"; else ins = sprintf("%d", ins)
			printf "| %s | %s | %s | %.1f | %s | %s | %s | %s |\n", calls[c], conds[i], ins, median(k "-ns/op"),
				ratio(k "/allow-all"), span(k "/allow-all"), ratio(k "/allow-uncached"), ratio(k "/none")
		}
	}
}' "$tmp/lines.txt"
