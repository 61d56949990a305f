#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing:
#   docker-registry  the real registry of the `tollgate sbom` end-to-end test
#   rpm, db5.3-util  make the rpm databases (SQLite, Berkeley DB) the inventory tests read
#   buildah          builds tollgate's own image (make image) in its test
#   redis-server     the real Redis of internal/scancache's tests
#   ca-certificates  the CA bundle copied into tollgate's image
#   make, git        the build itself
#   buildah, debootstrap, busybox-static
#                    the real before/after builds of `tollgate dockerfile fix`
#                    (local base images: a busybox rootfs and a Debian minbase)
# Needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
for p in make git docker-registry rpm db5.3-util buildah debootstrap busybox-static redis-server ca-certificates; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "test-deps: need root to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
