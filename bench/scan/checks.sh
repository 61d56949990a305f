#!/usr/bin/env bash
# Secret + misconfig cost benchmark (BENCHMARKS.md, "tollgate image
# --scanners vuln,misconfig,secret").
#
# On the Debian 12-like bench image of bench/scan/run.sh (bench/imagegen,
# SIZE of content in LAYERS gzip layers), times alternately
#   tollgate image --scanners vuln                  -i TAR
#   tollgate image --scanners vuln,misconfig,secret -i TAR
# cold (empty layer cache) and warm (layer cache filled), RUNS times each,
# interleaved so that both see the same machine load, and prints each
# run's CPU time (user+sys) and wall time from GNU time, then the medians.
#
#   bench/scan/checks.sh [SIZE] [LAYERS]        e.g. bench/scan/checks.sh 84MB 8
#
# BENCH_DIR (default /tmp/tollgate-checks-bench) holds the image, caches
# and binaries; an existing advisory DB there (dbcache/) is reused.
set -euo pipefail
cd "$(dirname "$0")/../.."

size=${1:-84MB}
layers=${2:-8}
runs=${RUNS:-5}
dir=${BENCH_DIR:-/tmp/tollgate-checks-bench}
mkdir -p "$dir"
CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/tollgate" .
go build -o "$dir/imagegen" ./bench/imagegen
db="$dir/dbcache"
shared=${TOLLGATE_SHARED:-../shared}/data/vulndata
if [ ! -f "$db/db/tollgate.db" ]; then # the DB of bench/scan/run.sh
	srcs=(examples/vulndb)
	[ -d "$shared" ] && srcs+=("$shared"/derived/Debian/all.zip "$shared"/osv/Go/all.zip "$shared"/osv/PyPI/all.zip "$shared"/osv/npm/all.zip)
	"$dir/tollgate" db import --cache-dir "$db" "${srcs[@]}" 2>/dev/null | tail -1
fi
tar="$dir/debian-$size-$layers.tar"
[ -f "$tar" ] || "$dir/imagegen" -distro debian -packages 100 -format docker-archive -o "$tar" -size "$size" -layers "$layers" | head -1

# run NAME SCANNERS CACHE: one timed scan, "NAME cpu wall rss_kb" on stdout.
run() {
	/usr/bin/time -f "%U %S %e %M" -o "$dir/time.out" "$dir/tollgate" image --scanners "$2" --skip-db-update -q \
		-f json -o "$dir/out-$1.json" --cache-dir "$3" -i "$tar"
	awk -v n="$1" '{printf "%s %.2f %.2f %d\n", n, $1 + $2, $3, $4}' "$dir/time.out"
}
fresh() { rm -rf "$1" && mkdir -p "$1" && ln -s "$db/db" "$1/db"; }

echo "image: $tar ($(du -m "$tar" | cut -f1) MB); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$dir/runs"
for _ in $(seq "$runs"); do
	for sc in vuln vuln,misconfig,secret; do
		c="$dir/cache-${sc//,/-}"
		fresh "$c"
		run "cold:$sc" "$sc" "$c" | tee -a "$dir/runs"
		run "warm:$sc" "$sc" "$c" | tee -a "$dir/runs"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in cold:vuln cold:vuln,misconfig,secret warm:vuln warm:vuln,misconfig,secret; do
	awk -v n="$name" '$1 == n {print $2}' "$dir/runs" | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "%s: CPU median %.2f s", n, (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
	awk -v n="$name" '$1 == n {print $3}' "$dir/runs" | sort -n | awk '{a[NR]=$1} END {printf "; wall median %.2f s", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
	awk -v n="$name" '$1 == n {if ($4 > m) m = $4} END {printf "; peak RSS %d MiB\n", m / 1024}' "$dir/runs"
done
grep -o '"Class": *"[a-z-]*"' "$dir/out-cold:vuln,misconfig,secret.json" | sort | uniq -c
