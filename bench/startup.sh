#!/usr/bin/env bash
# Start-up cost of the pledge command (issue 4, "Measured"; docs/benchmarks.md).
#
# Compares, in one hyperfine run (no shell, warm-up first):
#   /bin/true                                  bare exec, the baseline
#   bwrap --ro-bind / / /bin/true              bubblewrap
#   pledge -p 'stdio rpath' /bin/true          the default: supervised, violations logged
#   pledge -q -p 'stdio rpath' /bin/true       -q: pledge execs PROG in its own place
#   go-empty                                   an empty static Go program (the Go runtime's floor)
# and prints each one's mean and median, and its ratio to bare exec and to bwrap.
#
#   bench/startup.sh                  # 500 runs each
#   RUNS=200 bench/startup.sh
#   RAW=out.csv bench/startup.sh      # also keep hyperfine's CSV
#
# Installs hyperfine and bubblewrap with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0

RUNS=${RUNS:-500}

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v bwrap >/dev/null || missing+=(bubblewrap)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y "${missing[@]}" >/dev/null; }
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/pledge" ./cmd/pledge
mkdir "$tmp/empty"
printf 'package main\n\nfunc main() {}\n' >"$tmp/empty/main.go"
(cd "$tmp/empty" && GO111MODULE=off GOFLAGS= go build -o "$tmp/go-empty" main.go)

echo "# $(uname -srm), $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3), $(hyperfine --version), $(bwrap --version)"
echo "# hyperfine -N --warmup 50 --runs $RUNS ... (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
hyperfine -N --warmup 50 --runs "$RUNS" --style none --export-csv "$tmp/out.csv" \
	-n true '/bin/true' \
	-n bwrap 'bwrap --ro-bind / / /bin/true' \
	-n pledge "$tmp/pledge -p 'stdio rpath' /bin/true" \
	-n 'pledge -q' "$tmp/pledge -q -p 'stdio rpath' /bin/true" \
	-n go-empty "$tmp/go-empty" >/dev/null
if [ -n "${RAW:-}" ]; then cp "$tmp/out.csv" "$RAW"; fi

# CSV: command,mean,stddev,median,user,system,min,max (seconds)
awk -F, '
NR > 1 { name[NR] = $1; mean[$1] = $2; med[$1] = $4; sd[$1] = $3; order[++n] = $1 }
END {
	printf "| command | mean ms | ± ms | median ms | × bare exec (median) | × bwrap (median) |\n"
	printf "|---|---|---|---|---|---|\n"
	for (i = 1; i <= n; i++) {
		c = order[i]
		printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c, mean[c]*1000, sd[c]*1000, med[c]*1000, med[c]/med["true"], med[c]/med["bwrap"]
	}
}' "$tmp/out.csv"
