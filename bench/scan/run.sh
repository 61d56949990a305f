#!/usr/bin/env bash
# Vulnerability scan benchmark (BENCHMARKS.md, "Vulnerability scan").
#
# Generates two docker save tars with bench/imagegen (unless they exist):
# a Debian 12-like one and an Alpine 3.19-like one, each about SIZE of
# content in LAYERS gzip layers with a generated package database of 100
# packages; imports an advisory DB (the shared OSV fixtures when present,
# else the project's own), then times
#   floor: gzip -dc of every layer blob of the tar, one after the other
#   cold:  tollgate image --scanners vuln -i TAR with an empty layer cache
#   warm:  the same again, the layer cache filled by the cold run
# and reports wall time (median), CPU time (user+sys, median) and peak RSS
# (max), from GNU time. Usage:
#
#   bench/scan/run.sh [SIZE] [LAYERS]        e.g. bench/scan/run.sh 84MB 8
#
# BENCH_DIR (default /tmp/tollgate-scan-bench) holds the images, the cache
# and the binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."

size=${1:-84MB}
layers=${2:-8}
runs_cold=${RUNS_COLD:-5}
runs_warm=${RUNS_WARM:-9}
dir=${BENCH_DIR:-/tmp/tollgate-scan-bench}
mkdir -p "$dir"

CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/tollgate" .
go build -o "$dir/imagegen" ./bench/imagegen

db="$dir/dbcache"
bench/dbimport.sh "$dir/tollgate" "$db"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
maxof() { sort -n | tail -1; }
timeit() { # prints "wall_seconds maxrss_kb cpu_seconds"
	/usr/bin/time -f "%e %M %U %S" -o "$dir/time.out" "$@" >/dev/null
	awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$dir/time.out"
}
summary() { # NAME RUNS...: median wall, median CPU, max RSS
	local name=$1
	shift
	local w c r
	w=$(printf '%s\n' "$@" | cut -d' ' -f1 | median)
	c=$(printf '%s\n' "$@" | cut -d' ' -f3 | median)
	r=$(printf '%s\n' "$@" | cut -d' ' -f2 | maxof)
	echo "  $name: wall median ${w}s; CPU median ${c}s; peak RSS $((r / 1024)) MiB"
}

for distro in debian alpine; do
	tar="$dir/$distro-$size-$layers.tar"
	if [ ! -f "$tar" ]; then
		"$dir/imagegen" -distro "$distro" -packages 100 -format docker-archive -o "$tar" -size "$size" -layers "$layers" | head -1 >"$tar.info"
	fi
	echo "$distro: $(cat "$tar.info")"
	x="$dir/x-$distro"
	rm -rf "$x" && mkdir -p "$x" && tar -xf "$tar" -C "$x"
	blobs=$(sed -n 's/.*"Layers":\[\([^]]*\)\].*/\1/p' "$x/manifest.json" | tr -d '"' | tr ',' ' ')
	echo "  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	floor=()
	for _ in 1 2 3; do
		floor+=("$(timeit sh -c "cd $x && for f in $blobs; do gzip -dc \$f; done")")
	done
	scan=("$dir/tollgate" image --scanners vuln --skip-db-update -q -f json -o "$dir/out.json" -i "$tar")
	cold=()
	for _ in $(seq "$runs_cold"); do
		rm -rf "$dir/cache" && mkdir -p "$dir/cache" && ln -s "$db/db" "$dir/cache/db"
		cold+=("$(timeit "${scan[@]}" --cache-dir "$dir/cache")")
	done
	warm=()
	for _ in $(seq "$runs_warm"); do
		warm+=("$(timeit "${scan[@]}" --cache-dir "$dir/cache")")
	done
	echo "  load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
	summary "gzip -dc" "${floor[@]}"
	summary cold "${cold[@]}"
	summary warm "${warm[@]}"
	echo "  findings: $(grep -c '"VulnerabilityID"' "$dir/out.json")"
done
