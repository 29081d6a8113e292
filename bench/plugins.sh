#!/usr/bin/env bash
# Sandboxed Lua children and the plugin pool (issue 6, "Measured";
# docs/benchmarks.md, section "Plugins").
#
# Runs the host benchmarks COUNT times (default 5) with two worker
# binaries: the test binary (what go test uses) and examples/plugind, a
# program like the ones users write (main calls host.Init first):
#
#   BenchmarkRunColdStart    vow.run("return 1") from Lua: ms-median, ms-p99
#   BenchmarkPoolCall        one call with small arguments: µs-median, µs-p99
#   BenchmarkPoolThroughput  two workers, four calling goroutines: calls/s
#   BenchmarkIdleWorkerRSS   resident memory of a worker after one call: MB-RSS
#
#   bench/plugins.sh
#   COUNT=10 BENCHTIME=3s bench/plugins.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0

COUNT=${COUNT:-5}
BENCHTIME=${BENCHTIME:-2s}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/plugind" ./examples/plugind
go test -c -o "$tmp/host.test" ./host

for worker in test-binary plugind; do
	echo "== worker: $worker"
	env=()
	[ "$worker" = plugind ] && env=(VOW_HOST_BENCH_WORKER="$tmp/plugind")
	(cd host && env "${env[@]}" "$tmp/host.test" -test.run '^$' -test.bench . \
		-test.benchtime "$BENCHTIME" -test.count "$COUNT") | grep '^Benchmark'
done
