#!/usr/bin/env bash
# Imports the advisory DB the benchmarks scan against into CACHE_DIR/db
# (unless it is there): the shared OSV data (Debian, Alpine, Go, PyPI, npm)
# when ../shared is present, and the project's own examples/vulndb. Run
# from the repository root:
#
#   bench/dbimport.sh TOLLGATE_BINARY CACHE_DIR
set -euo pipefail
tollgate=$1
db=$2
shared=${TOLLGATE_SHARED:-../shared}/data/vulndata
[ -f "$db/db/tollgate.db" ] && exit 0
if [ -d "$shared" ]; then
	"$tollgate" db import --cache-dir "$db" "$shared"/derived/Debian/all.zip "$shared"/derived/Alpine/all.zip \
		"$shared"/osv/Go/all.zip "$shared"/osv/PyPI/all.zip "$shared"/osv/npm/all.zip examples/vulndb 2>/dev/null | tail -1
else
	"$tollgate" db import --cache-dir "$db" examples/vulndb | tail -1
fi
