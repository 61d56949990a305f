#!/usr/bin/env bash
# build.sh builds the real cosign CLIs the signature tests sign with —
# cosign v2.6.5 (./cosign2: legacy sha256-<hex>.sig tags) and v3.1.3
# (./cosign3: Sigstore bundles as OCI referrers) — from the Go module proxy,
# once per machine: the binaries are cached by version under the user cache
# directory and rebuilt only when missing.
#
# Usage: build.sh            build if needed, print the directory
#        build.sh --print    print the directory only
# Environment: TOLLGATE_COSIGN_DIR overrides the directory;
#              TOLLGATE_BUILD_LOCK the lock file (default /tmp/heavy-build.lock).
#
# The script takes the heavy-build lock itself, only while it compiles, so
# do not wrap it in flock(1): a second lock on the same file would wait for
# the first forever.
#
# Signing offline with these binaries (no Rekor, Fulcio, TSA or TUF):
#   cosign2 sign --key cosign.key --tlog-upload=false IMAGE@DIGEST
#   cosign2 attest --key cosign.key --tlog-upload=false --type cyclonedx \
#           --predicate sbom.json IMAGE@DIGEST
#   cosign3 sign --key cosign.key --use-signing-config=false \
#           --tlog-upload=false IMAGE@DIGEST
#   (cosign3 attest takes the same two flags.) cosign 3 otherwise fetches a
#   signing config from the public TUF root, and would upload to Rekor and
#   ask a timestamp authority. COSIGN_PASSWORD must be set (to "" for a key
#   pair made with an empty password) so that no terminal prompt appears.
set -euo pipefail
cd "$(dirname "$0")"

V2=v2.6.5
V3=v3.1.3
cache_home="${XDG_CACHE_HOME:-$HOME/.cache}"
dest="${TOLLGATE_COSIGN_DIR:-$cache_home/tollgate/cosign-$V2-$V3}"
if [ "${1:-}" = "--print" ]; then
	echo "$dest"
	exit 0
fi

stamp="$dest/.complete"
want="cosign $V2 $V3 $(go env GOOS)/$(go env GOARCH)"
complete() {
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$dest/cosign2" ] && [ -x "$dest/cosign3" ]
}
if complete; then
	echo "$dest"
	exit 0
fi

# Wait for any other heavy build (the control plane, another tool), then look
# again: whoever held the lock may have built these very binaries.
lock="${TOLLGATE_BUILD_LOCK:-/tmp/heavy-build.lock}"
exec 9>>"$lock"
echo "waiting for $lock" >&2
flock 9
if complete; then
	echo "$dest"
	exit 0
fi

mkdir -p "$dest"
tmp="$(mktemp -d "$dest/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

start=$SECONDS
for v in "$V2" "$V3"; do
	major="${v%%.*}"
	t=$SECONDS
	CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X sigs.k8s.io/release-utils/version.gitVersion=$v" \
		-o "$tmp/cosign${major#v}" "github.com/sigstore/cosign/$major/cmd/cosign"
	echo "built cosign $v in $((SECONDS - t))s" >&2
done
mv -f "$tmp/cosign2" "$tmp/cosign3" "$dest/"
echo "$want" >"$stamp"
echo "cosign built in $((SECONDS - start))s" >&2
echo "$dest"
