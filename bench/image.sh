#!/usr/bin/env bash
# Image inventory benchmark (BENCHMARKS.md, "Image inventory").
#
# Generates an image with bench/imagegen (unless it exists), then times
#   floor: gzip -dc of every layer blob to /dev/null, one after the other
#   cold:  tollgate sbom with an empty cache (every layer read and analysed)
#   warm:  tollgate sbom again with the cache filled by the cold run
# and reports wall time (median of the runs) and peak RSS (max of the runs,
# from GNU time). Usage:
#
#   bench/image.sh [SIZE] [LAYERS]        e.g. bench/image.sh 500MB 20
#
# BENCH_DIR (default /tmp/tollgate-bench) holds the image, the cache and
# the binaries; it needs about 0.4 × SIZE of disk.
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-500MB}
layers=${2:-20}
runs_cold=${RUNS_COLD:-3}
runs_warm=${RUNS_WARM:-7}
dir=${BENCH_DIR:-/tmp/tollgate-bench}
img="$dir/img-$size-$layers"
mkdir -p "$dir"

CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/tollgate" .
go build -o "$dir/imagegen" ./bench/imagegen
if [ ! -f "$img/index.json" ]; then
	"$dir/imagegen" -o "$img" -size "$size" -layers "$layers" | head -1 | tee "$img.info"
fi
cat "$img.info"

# Layer blobs in manifest order.
manifest=$(sed -n 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' "$img/index.json")
blobs=$(grep -o '"digest":"sha256:[0-9a-f]*"' "$img/blobs/sha256/$manifest" | sed 1d | sed 's/.*sha256:\([0-9a-f]*\)"/\1/' | sed "s#^#$img/blobs/sha256/#")

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
maxof() { sort -n | tail -1; }

timeit() { # prints "wall_seconds maxrss_kb cpu_seconds"
	/usr/bin/time -f "%e %M %U %S" -o "$dir/time.out" "$@" >/dev/null
	awk '{printf "%s %s %.2f\n", $1, $2, $3 + $4}' "$dir/time.out"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
floor=()
for _ in 1 2 3; do
	floor+=("$(timeit sh -c "for f in $(echo $blobs); do gzip -dc \$f; done")")
done
cold=()
for _ in $(seq "$runs_cold"); do
	rm -rf "$dir/cache"
	cold+=("$(timeit "$dir/tollgate" sbom --cache-dir "$dir/cache" -o "$dir/out.cdx.json" "oci-dir:$img")")
done
warm=()
for _ in $(seq "$runs_warm"); do
	warm+=("$(timeit "$dir/tollgate" sbom --cache-dir "$dir/cache" -o "$dir/out.cdx.json" "oci-dir:$img")")
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"

summary() { # NAME RUNS...: median wall, median CPU, max RSS
	local name=$1
	shift
	local w c r
	w=$(printf '%s\n' "$@" | cut -d' ' -f1 | median)
	c=$(printf '%s\n' "$@" | cut -d' ' -f3 | median)
	r=$(printf '%s\n' "$@" | cut -d' ' -f2 | maxof)
	echo "$name: wall $(printf '%s ' "$@" | awk '{for (i = 1; i <= NF; i += 3) printf "%s ", $i}')-> median ${w}s; CPU median ${c}s; peak RSS $((r / 1024)) MiB"
	eval "${name}_wall=$w ${name}_cpu=$c"
}
summary floor "${floor[@]}"
summary cold "${cold[@]}"
summary warm "${warm[@]}"
awk -v c="$cold_wall" -v f="$floor_wall" -v cc="$cold_cpu" -v fc="$floor_cpu" \
	'BEGIN {printf "cold / floor: %.2fx wall, %.2fx CPU\n", c / f, cc / fc}'
echo "packages: $(grep -c '"type": "library"' "$dir/out.cdx.json")"
