#!/usr/bin/env bash
# Builds tollgate's image with buildah from the Dockerfile at the repository
# root and saves it as a `docker save` tar.
#
#   build/image.sh BINARY OUT.tar [IMAGE_NAME]
#
# BINARY is a static tollgate (make build: CGO_ENABLED=0). The build context
# is a fresh temporary directory holding the binary, the host's CA bundle and
# build/image/{passwd,group}, so nothing else of the checkout reaches the
# image and nothing is left to invalidate. VERSION, REVISION and SOURCE set
# the OCI labels. BUILDAH_ROOT, when set, builds in a self-contained vfs
# store there (the tests use a temporary one) instead of the default store.
# buildah runs rootful with --isolation=chroot (no Docker engine here, and
# the default OCI runtime fails on this kernel's hybrid cgroups).
set -euo pipefail

bin=${1:?usage: build/image.sh BINARY OUT.tar [IMAGE_NAME]}
out=${2:?usage: build/image.sh BINARY OUT.tar [IMAGE_NAME]}
name=${3:-localhost/tollgate:${VERSION:-dev}}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}

command -v buildah >/dev/null || { echo "image.sh: buildah is not installed (scripts/test-deps.sh installs it)" >&2; exit 3; }
[ -s "$ca" ] || { echo "image.sh: no CA bundle at $ca (apt-get install ca-certificates, or set CA_BUNDLE)" >&2; exit 1; }
[ -f "$bin" ] || { echo "image.sh: no binary at $bin (make build)" >&2; exit 1; }
# A dynamically linked binary would not start on an empty base.
if command -v readelf >/dev/null && readelf -l "$bin" 2>/dev/null | grep -q INTERP; then
	echo "image.sh: $bin is dynamically linked; build it with CGO_ENABLED=0 (make build)" >&2; exit 1
fi

store=()
if [ -n "${BUILDAH_ROOT:-}" ]; then
	store=(--root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" --storage-driver vfs)
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
install -m 0555 "$bin" "$ctx/tollgate"
install -m 0444 "$ca" "$ctx/ca-certificates.crt"
install -m 0444 "$here/image/passwd" "$here/image/group" "$ctx/"

buildah "${store[@]}" bud --isolation=chroot --format docker --pull=never --quiet \
	--build-arg VERSION="${VERSION:-dev}" \
	--build-arg REVISION="${REVISION:-unknown}" \
	${SOURCE:+--build-arg SOURCE="$SOURCE"} \
	-f "$repo/Dockerfile" -t "$name" "$ctx" >/dev/null
mkdir -p "$(dirname "$out")"
rm -f "$out.tmp"
buildah "${store[@]}" push --quiet "$name" "docker-archive:$out.tmp:$name"
mv "$out.tmp" "$out"
echo "$out"
