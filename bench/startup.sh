#!/usr/bin/env bash
# Start-up cost of the pledge command (issue 4, "Measured"; docs/benchmarks.md).
#
# Compares, in one interleaved run (bench/interleave: every round runs
# each command once, in random order, so a noisy machine's drift hits all
# alike; no shell; warm-up rounds first):
#   /bin/true                                  bare exec, the baseline
#   bwrap --ro-bind / / /bin/true              bubblewrap
#   pledge -p 'stdio rpath' /bin/true          the default: supervised, violations logged
#   pledge -q -p 'stdio rpath' /bin/true       -q: pledge execs PROG in its own place
#   pledge -p 'stdio rpath' -v /usr /bin/true  with Landlock: -v and the automatic unveils
#   go-empty                                   an empty static Go program (the Go runtime's floor)
#   go-exec                                    a static Go program that only execs /bin/true
#                                              (the floor of any Go launcher)
# and prints each one's median and quartiles, and its ratio to bare exec and
# to bwrap. The executables are dropped from the page cache first (-evict),
# so that the freshly built ones are read from disk like the installed ones.
#
#   bench/startup.sh                  # 500 runs each
#   RUNS=200 bench/startup.sh
#
# Installs bubblewrap with apt-get when it is missing. Run as root, it also
# times everything again as nobody, as users run pledge.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
export CGO_ENABLED=0

RUNS=${RUNS:-500}

missing=()
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
mkdir "$tmp/exec"
printf 'package main\n\nimport (\n\t"os"\n\t"syscall"\n)\n\nfunc main() {\n\tsyscall.Exec("/bin/true", []string{"/bin/true"}, os.Environ())\n}\n' >"$tmp/exec/main.go"
(cd "$tmp/exec" && GO111MODULE=off GOFLAGS= go build -o "$tmp/go-exec" main.go)

go build -o "$tmp/interleave" ./bench/interleave

echo "# $(uname -srm), $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3), $(bwrap --version)"
echo "# bench/interleave -runs $RUNS (each round runs every command once, in random order; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
commands=(
	true=/bin/true
	'bwrap=bwrap --ro-bind / / /bin/true'
	"pledge=$tmp/pledge -p 'stdio rpath' /bin/true"
	"pledge -q=$tmp/pledge -q -p 'stdio rpath' /bin/true"
	"pledge -v /usr=$tmp/pledge -p 'stdio rpath' -v /usr /bin/true"
	"go-empty=$tmp/go-empty"
	"go-exec=$tmp/go-exec"
)
echo "# as $(id -un)"
"$tmp/interleave" -evict -runs "$RUNS" -ref bwrap "${commands[@]}"

# Users run pledge unprivileged: as root, time the same as nobody too
# (bwrap then sets up a user namespace; pledge has no capabilities to drop).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups bwrap --ro-bind / / /bin/true 2>/dev/null; then
	chmod 755 "$tmp" "$tmp"/*
	echo
	echo "# as nobody (setpriv --reuid=65534 --regid=65534 --clear-groups)"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/interleave" -evict -runs "$RUNS" -ref bwrap "${commands[@]}"
fi
