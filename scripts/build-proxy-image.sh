#!/usr/bin/env bash
# Builds the swapdev proxy image from proxy-image/Dockerfile.
#
#   scripts/build-proxy-image.sh [--base IMAGE|debootstrap] [--tag TAG] [--push] [--tool docker|podman|buildah]
#
# --base IMAGE        any Alpine or Debian/Ubuntu image (default: the Dockerfile's alpine:3.20)
# --base debootstrap  a minimal Debian bookworm base made here with debootstrap, for machines that
#                     reach no container registry but do reach a Debian mirror; the root filesystem
#                     tarball is cached under /var/cache/swapdev/ so later runs take seconds
# --tag TAG           default ghcr.io/swapdev/swapdev-proxy:<VERSION from the repo's VERSION file>
# --tool              default: docker, else podman, else buildah (vfs storage, chroot isolation)
# Prints the tag of the built image on the last line.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=$(tr -d ' \n' < "$root/VERSION")
tag="ghcr.io/swapdev/swapdev-proxy:$version"
base=""
push=0
tool=""
mirror="${SWAPDEV_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite="${SWAPDEV_DEBIAN_SUITE:-bookworm}"
cache="${SWAPDEV_IMAGE_CACHE:-/var/cache/swapdev}"

while (($#)); do
  case "$1" in
    --base) base="${2:?--base needs an image or 'debootstrap'}"; shift 2 ;;
    --tag) tag="${2:?--tag needs a value}"; shift 2 ;;
    --push) push=1; shift ;;
    --tool) tool="${2:?--tool needs docker, podman or buildah}"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "build-proxy-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [[ -z "$tool" ]]; then
  for candidate in docker podman buildah; do
    if command -v "$candidate" >/dev/null; then tool=$candidate; break; fi
  done
fi
command -v "$tool" >/dev/null 2>&1 || { echo "build-proxy-image: no image tool found; install buildah (apt-get install buildah) or docker" >&2; exit 1; }

# buildah as root on a plain machine: vfs storage (no overlay mounts needed), chroot isolation.
buildah_flags=()
if [[ "$tool" == buildah ]]; then
  buildah_flags=(--storage-driver vfs)
  export BUILDAH_ISOLATION=chroot
fi

# A minimal Debian root filesystem as a local base image.
make_debootstrap_base() {
  command -v debootstrap >/dev/null || { echo "build-proxy-image: debootstrap missing; apt-get install debootstrap" >&2; exit 1; }
  mkdir -p "$cache"
  local tarball="$cache/debootstrap-$suite-minbase.tar"
  if [[ ! -s "$tarball" ]]; then
    local dir
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    echo "build-proxy-image: debootstrap $suite (first run only, cached in $tarball)" >&2
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" >&2
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$dir"
  fi
  local image="localhost/swapdev-debootstrap-base:$suite"
  local stamp="$cache/debootstrap-$suite-minbase.$tool.imported"
  if [[ -f "$stamp" && "$stamp" -nt "$tarball" ]] && "$tool" "${buildah_flags[@]}" inspect "$image" >/dev/null 2>&1; then
    echo "$image"
    return
  fi
  case "$tool" in
    buildah)
      local ctr
      ctr=$(buildah "${buildah_flags[@]}" from scratch)
      buildah "${buildah_flags[@]}" add "$ctr" "$tarball" / >&2
      buildah "${buildah_flags[@]}" config --cmd /bin/sh "$ctr" >&2
      buildah "${buildah_flags[@]}" commit --rm "$ctr" "$image" >&2
      ;;
    *)
      "$tool" import "$tarball" "$image" >&2
      ;;
  esac
  touch "$stamp"
  echo "$image"
}

build_args=()
if [[ "$base" == debootstrap ]]; then
  base=$(make_debootstrap_base)
fi
[[ -n "$base" ]] && build_args+=(--build-arg "BASE=$base")

echo "build-proxy-image: building $tag with $tool${base:+ on $base}" >&2
case "$tool" in
  buildah)
    buildah "${buildah_flags[@]}" bud --isolation chroot --layers "${build_args[@]}" -t "$tag" -f "$root/proxy-image/Dockerfile" "$root/proxy-image" >&2
    ;;
  *)
    "$tool" build "${build_args[@]}" -t "$tag" -f "$root/proxy-image/Dockerfile" "$root/proxy-image" >&2
    ;;
esac

if ((push)); then
  "$tool" "${buildah_flags[@]}" push "$tag" >&2
fi
echo "$tag"
