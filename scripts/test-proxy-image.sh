#!/usr/bin/env bash
# Proves that the image users deploy works: builds proxy-image/Dockerfile with buildah on a
# debootstrap Debian base (cached under /var/cache/swapdev), runs the built image's entrypoint
# from its own root filesystem (`buildah run`, chroot isolation, host loopback) as uid 1000, and
# has swapdev's SSH layer (the swapdev-tunnel-bench client) log in with a fresh key, pin the host
# key from the log, open a remote forward through it and fetch a response through the forward.
# Cold: several minutes (debootstrap + apt in the image); warm: seconds.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scratch="$root/${SWAPDEV_SCRATCH:-.build}"
tag="${SWAPDEV_PROXY_TEST_TAG:-localhost/swapdev-proxy:test}"
storage=(--storage-driver vfs)
work=$(mktemp -d /tmp/swapdev-image-test.XXXXXX)
ctr=""
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -n "$ctr" ]] && buildah "${storage[@]}" rm "$ctr" >/dev/null 2>&1 || true
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-proxy-image: FAIL: $*" >&2; exit 1; }

for tool in buildah debootstrap python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing; SWAPDEV_WITH_IMAGE_TOOLS=1 scripts/install-deps.sh"
done
[[ $(id -u) -eq 0 ]] || fail "needs root (buildah with vfs storage and chroot isolation)"

"$root/scripts/build-proxy-image.sh" --base debootstrap --tool buildah --tag "$tag" >&2
# SWAPDEV_SKIP_CLIENT_BUILD=1 reuses an already built client (e.g. while another build holds the scratch dir).
[[ "${SWAPDEV_SKIP_CLIENT_BUILD:-0}" == 1 ]] || swift build --scratch-path "$scratch" --product swapdev-tunnel-bench >&2
client="$scratch/debug/swapdev-tunnel-bench"

coproc SERVER { python3 "$root/scripts/bench/tunnel_server.py"; }
pids+=("$SERVER_PID")
read -r _ server_port <&"${SERVER[0]}"
coproc CLIENT { "$client" swapdev "$server_port"; }
pids+=("$CLIENT_PID")
read -r _ pubkey <&"${CLIENT[0]}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ctr=$(buildah "${storage[@]}" from --pull-never "$tag")
# The image's own user, entrypoint and config; only the port and listen address are the test's.
buildah "${storage[@]}" run --isolation chroot --network host \
  -e SWAPDEV_AUTHORIZED_KEY="$pubkey" -e SWAPDEV_SSHD_PORT="$port" -e SWAPDEV_SSHD_LISTEN=127.0.0.1 \
  -e APP_SETTING=from-the-pod \
  "$ctr" -- /usr/local/lib/swapdev/entrypoint.sh > "$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do grep -q 'swapdev-proxy: ready' "$work/proxy.log" && break; sleep 0.1; done
grep -q 'swapdev-proxy: ready' "$work/proxy.log" || fail "proxy not ready: $(tail -5 "$work/proxy.log")"
fingerprint=$(sed -n 's/^swapdev-proxy: host key //p' "$work/proxy.log")
[[ "$fingerprint" == SHA256:* ]] || fail "no host key line in the proxy log"

# sshd must run as the image's non-root user.
sshd_pid=$(python3 - "$port" <<'PY'
import os, sys
port = sys.argv[1]
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        # sshd rewrites its title ("sshd: /usr/sbin/sshd -D -e -f … [listener] …").
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ")
        if b"sshd" in cmd and b"/var/run/swapdev/sshd_config" in cmd:
            uid = [l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0].split()[1]
            print(pid, uid)
    except OSError:
        pass
PY
)
echo "test-proxy-image: sshd processes (pid uid): $sshd_pid" >&2
grep -q ' 1000$' <<<"$sshd_pid" || fail "sshd does not run as uid 1000"

echo "$port $fingerprint" >&"${CLIENT[1]}"
read -r word forward_port <&"${CLIENT[0]}" || fail "swapdev's SSH layer did not connect: see the client's stderr"
[[ "$word" == forward ]] || fail "unexpected client output: $word $forward_port"
body=$(python3 - "$forward_port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /small HTTP/1.0\r\n\r\n")
data = b""
while chunk := s.recv(4096):
    data += chunk
print(data.split(b"\r\n\r\n", 1)[-1].decode())
PY
)
[[ "$body" == ok ]] || fail "request through the forward returned '$body'"

# The environment file the swap engine reads: NUL-separated, with the pod's variables.
buildah "${storage[@]}" run --isolation chroot "$ctr" -- sh -c 'tr "\0" "\n" < /var/run/swapdev/env' > "$work/env" 2>/dev/null || true
grep -q '^APP_SETTING=from-the-pod$' "$work/env" || fail "the env file lacks APP_SETTING: $(head -c 300 "$work/env")"
grep -q '^SWAPDEV_' "$work/env" && fail "the env file contains SWAPDEV_* variables"
echo "test-proxy-image: PASS ($tag: login as uid 1000 with the swap key, host key pinned, remote forward works, env file written)"
