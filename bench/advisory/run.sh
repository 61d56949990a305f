#!/usr/bin/env bash
# Advisory DB benchmarks (BENCHMARKS.md, "Advisory DB").
#
#   import: tollgate db import of the five shared all.zip files, RUNS times,
#           each into an empty cache; wall, user+sys CPU and peak RSS (GNU time)
#   info:   tollgate db info on that DB, INFO_RUNS times; wall, process start
#           included (median and max)
#   size:   the DB file
#
# The in-process lookup benchmark is Go's:
#   go test ./internal/advisory -run '^$' -bench Lookup -benchtime 50000x
#
# Usage: bench/advisory/run.sh   (needs ../shared/data/vulndata; GNU time)
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=${RUNS:-3}
info_runs=${INFO_RUNS:-21}
data=${SHARED:-../shared}/data/vulndata
dir=${BENCH_DIR:-/tmp/tollgate-bench-advisory}
mkdir -p "$dir"
[ -d "$data" ] || { echo "no shared data at $data" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "GNU time (/usr/bin/time) is needed" >&2; exit 1; }

CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$dir/tollgate" .
zips=("$data/osv/Go/all.zip" "$data/osv/PyPI/all.zip" "$data/osv/npm/all.zip" "$data/derived/Debian/all.zip" "$data/derived/Alpine/all.zip")

echo "machine: $(nproc) cores, $(uname -sr); $(uptime)"
for i in $(seq "$runs"); do
	rm -rf "$dir/cache"
	/usr/bin/time -f "import $i: %e s wall, %U s user + %S s sys CPU, %M KB peak RSS" \
		"$dir/tollgate" db import --cache-dir "$dir/cache" "${zips[@]}" 2>&1 | grep -v '^tollgate: bad data'
done
echo "db file: $(stat -c %s "$dir/cache/db/tollgate.db") bytes"

# wall ms of a command, median and max over info_runs runs
timed() {
	local times=() s e
	for i in $(seq "$info_runs"); do
		s=$(date +%s%N)
		"$@" >/dev/null
		e=$(date +%s%N)
		times+=($(( (e - s) / 1000000 )))
	done
	local sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	echo "median ${sorted[$((info_runs / 2))]} ms, max ${sorted[$((info_runs - 1))]} ms wall over $info_runs runs"
}
echo "db info: $(timed "$dir/tollgate" db info --cache-dir "$dir/cache") (process start included)"
echo "baseline, tollgate version: $(timed "$dir/tollgate" version)"
echo "after: $(uptime)"
