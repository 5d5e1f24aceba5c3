#!/bin/sh
# Entrypoint of the swapdev proxy: records the container's environment, installs the swap's
# public key, makes a fresh host key, prints its fingerprint, and runs sshd in the foreground.
#
# Environment (all optional except the key):
#   SWAPDEV_AUTHORIZED_KEY   the public key line swapdev generated for this swap (required)
#   SWAPDEV_STATE_DIR        writable directory for keys, config, pid and env (default /var/run/swapdev)
#   SWAPDEV_SSHD_PORT        port sshd listens on (default 8022)
#   SWAPDEV_SSHD_LISTEN      address to listen on (default: every address)
#   SWAPDEV_SSHD_CONFIG      the sshd_config template (default: next to this script)
#   SWAPDEV_SSHD             the sshd binary (default /usr/sbin/sshd)
#
# Log lines for swapdev (on stdout, each on a line of its own):
#   swapdev-proxy: host key SHA256:<base64>     the fingerprint to pin
#   swapdev-proxy: ready                        sshd accepts connections
set -eu

state="${SWAPDEV_STATE_DIR:-/var/run/swapdev}"
port="${SWAPDEV_SSHD_PORT:-8022}"
listen="${SWAPDEV_SSHD_LISTEN:-}"
here=$(cd "$(dirname "$0")" && pwd)
template="${SWAPDEV_SSHD_CONFIG:-$here/sshd_config}"
sshd="${SWAPDEV_SSHD:-/usr/sbin/sshd}"

fail() {
    echo "swapdev-proxy: error: $*" >&2
    exit 1
}

[ -n "${SWAPDEV_AUTHORIZED_KEY:-}" ] || fail "SWAPDEV_AUTHORIZED_KEY is empty; swapdev passes the swap's public key in it"
[ -r "$template" ] || fail "sshd_config template $template not found; set SWAPDEV_SSHD_CONFIG"
mkdir -p "$state" || fail "cannot create state directory $state; mount a writable emptyDir there"
chmod 700 "$state" 2>/dev/null || true

# 1. The container's environment, exactly as the runtime gave it, minus swapdev's own SWAPDEV_*
#    variables and what a shell adds (PWD, SHLVL, OLDPWD, _). Format: NAME=value entries, each
#    terminated by a NUL byte (like /proc/PID/environ), so values may hold any byte but NUL.
unset_args=""
for name in $(env | sed -n 's/^\(SWAPDEV_[A-Za-z0-9_]*\)=.*/\1/p'); do
    unset_args="$unset_args -u $name"
done
# shellcheck disable=SC2086  # word splitting of unset_args is intended
env $unset_args -u PWD -u SHLVL -u OLDPWD -u _ -0 > "$state/env.tmp" \
    || fail "cannot write $state/env (env -0 unsupported?)"
chmod 600 "$state/env.tmp"
mv "$state/env.tmp" "$state/env"

# 2. The swap's key, and nothing else, may log in.
umask 077
printf '%s\n' "$SWAPDEV_AUTHORIZED_KEY" > "$state/authorized_keys"

# 3. A host key made now: swapdev pins its fingerprint from this log.
rm -f "$state/ssh_host_ed25519_key" "$state/ssh_host_ed25519_key.pub"
ssh-keygen -q -t ed25519 -N '' -C swapdev-proxy -f "$state/ssh_host_ed25519_key" >/dev/null \
    || fail "ssh-keygen failed"
fingerprint=$(ssh-keygen -l -f "$state/ssh_host_ed25519_key.pub" | awk '{print $2}')
echo "swapdev-proxy: host key $fingerprint"

# 4. The config, with this instance's paths and port.
if [ -n "$listen" ]; then listen_line="ListenAddress $listen"; else listen_line="# ListenAddress: every address"; fi
sed -e "s|@STATE@|$state|g" -e "s|@PORT@|$port|g" -e "s|@LISTEN@|$listen_line|" "$template" > "$state/sshd_config"

# sshd running as root (the sandbox) insists on its privilege-separation directory.
if [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi

# 5. Announce readiness once the port is in LISTEN state (read from /proc/net, which needs no
#    extra tools), as long as sshd — this very process after exec — is alive.
port_hex=$(printf '%04X' "$port")
pid=$$
(
    while kill -0 "$pid" 2>/dev/null; do
        if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null \
            | awk -v p=":$port_hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }'; then
            echo "swapdev-proxy: ready"
            exit 0
        fi
        sleep 0.1
    done
) &

if [ -n "${SWAPDEV_DEADMAN_DEPLOYMENT:-}" ]; then sh "$here/deadman.sh" & fi
exec "$sshd" -D -e -f "$state/sshd_config"
