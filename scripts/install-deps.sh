#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages swapdev's build, tests and demo need.
# Idempotent: packages already present are skipped, so a warm machine pays nothing.
set -euo pipefail

PACKAGES=(
  libssh2-1-dev     # the SSH layer (system-library target via pkg-config)
  pkg-config        # how SwiftPM finds libssh2
  openssh-server    # the real sshd the tunnel tests and the proxy image run
  openssh-client    # ssh -R, the baseline of scripts/bench.sh
  iproute2          # network namespaces and veth pairs of the sandbox's pods
  util-linux        # nsenter/unshare for the sandbox's pod mount namespaces
  openssl           # the sandbox's self-signed CA
  procps            # ps/pkill used by fault-injection scripts
  curl
  jq                # chaos.sh compares object specs
  python3           # SandboxRuntime tests run small python3 servers as pod processes
)
if [[ "${SWAPDEV_WITH_IMAGE_TOOLS:-0}" == 1 ]]; then
  PACKAGES+=(buildah debootstrap)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
