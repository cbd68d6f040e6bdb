#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian package that building, the VM and the tests need.
# Idempotent and silent when everything is already there, so both README
# commands can call it first.
set -euo pipefail

pkgs=(
	make gcc pkg-config xz-utils cpio busybox-static rsync
	clang llvm libelf-dev zlib1g-dev libbpf-dev bpftool libxdp-dev xdp-tools
	dwarves
	qemu-system-x86 linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.12
	flex bison bc libssl-dev
	iproute2 tcpdump ndctl
	rdma-core ibverbs-utils rdmacm-utils perftest libibverbs-dev
)

missing=()
for p in "${pkgs[@]}"; do
	# ${Status} is dpkg-query's field, not a shell variable.
	# shellcheck disable=SC2016
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
