#!/usr/bin/env bash
# Makes the local base images the real-build tests of `dockerfile fix` use,
# since no registry on the internet is reachable:
#   localhost/tollgate/busybox:local            Debian's busybox-static with its applet links
#   localhost/tollgate/debian:bookworm-minbase  a debootstrap --variant=minbase rootfs
# The Debian rootfs tar is cached under ~/.cache/tollgate/ keyed by suite and
# variant, so only the first run pays for debootstrap (a few minutes).
# Needs root, buildah, debootstrap and busybox-static (scripts/test-deps.sh).
set -euo pipefail

suite=bookworm
variant=minbase
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/rootfs-debian-$suite-$variant"
# The mirror apt uses on this machine, else Debian's own.
mirror=$(grep -rhoE '^(URIs:|deb) *https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
	grep -oE 'https?://[^ ]+' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

have() { buildah inspect --type image "$1" >/dev/null 2>&1; }

if ! have localhost/tollgate/busybox:local; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp/bin" "$tmp/etc" "$tmp/tmp" "$tmp/root"
	cp /bin/busybox "$tmp/bin/busybox"
	for a in $("$tmp/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -s busybox "$tmp/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tmp/etc/passwd"
	printf 'root:x:0:\n' >"$tmp/etc/group"
	chmod 1777 "$tmp/tmp"
	ctr=$(buildah from scratch)
	buildah copy "$ctr" "$tmp" / >/dev/null
	buildah config --cmd /bin/sh --env PATH=/bin "$ctr"
	buildah commit --format docker "$ctr" localhost/tollgate/busybox:local >/dev/null
	buildah rm "$ctr" >/dev/null
fi

if [ ! -f "$cache/.complete" ]; then
	mkdir -p "$cache"
	# One heavy build at a time on the machine; a second caller waits, then
	# finds the cache complete.
	flock /tmp/heavy-build.lock bash -euo pipefail -c '
		cache=$1 suite=$2 variant=$3 mirror=$4
		[ -f "$cache/.complete" ] && exit 0
		root=$(mktemp -d)
		trap "rm -rf \"$root\"" EXIT
		debootstrap --variant="$variant" "$suite" "$root" "$mirror" >"$cache/debootstrap.log" 2>&1
		rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
		tar -C "$root" --numeric-owner -cf "$cache/rootfs.tar.tmp" .
		mv "$cache/rootfs.tar.tmp" "$cache/rootfs.tar"
		touch "$cache/.complete"
	' _ "$cache" "$suite" "$variant" "$mirror"
fi

if ! have localhost/tollgate/debian:$suite-$variant; then
	ctr=$(buildah from scratch)
	buildah add "$ctr" "$cache/rootfs.tar" / >/dev/null
	buildah config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
	buildah commit --format docker "$ctr" localhost/tollgate/debian:$suite-$variant >/dev/null
	buildah rm "$ctr" >/dev/null
fi
