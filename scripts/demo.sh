#!/usr/bin/env bash
# The README's "run it": on a fresh Linux machine, installs what is missing, builds swapdev,
# starts the sandbox cluster in a temp dir, deploys a two-container app with a Service, swaps
# the app container for a local Python process, shows a request to the Service reaching it
# and the environment it received, then restores and shows the original back.
# Usage: sudo scripts/demo.sh        (root: the sandbox makes network namespaces)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: the sandbox cluster needs root (network namespaces); run: sudo scripts/demo.sh" >&2
  exit 1
fi

scripts/install-deps.sh
scratch=${SWAPDEV_SCRATCH:-.build}
echo "==> building swapdev and swapdev-sandbox ($scratch)"
swift build --scratch-path "$scratch" --product swapdev-sandbox
swift build --scratch-path "$scratch" --product swapdev
bin=$(swift build --scratch-path "$scratch" --show-bin-path)

work=$(mktemp -d /tmp/swapdev-demo-XXXXXX)
sandbox_pid=""
cleanup() {
  [[ -n "$sandbox_pid" ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> starting the sandbox cluster in $work"
"$bin/swapdev-sandbox" serve --dir "$work/sandbox" --proxy-image-dir "$repo/proxy-image" > "$work/sandbox.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 200); do [[ -f "$work/sandbox/kubeconfig" ]] && break; sleep 0.1; done
export KUBECONFIG="$work/sandbox/kubeconfig"
k() { kubectl "$@"; }

py=/usr/bin/python3
echo "==> deploying web (app + sidecar) and Service web"
cat > "$work/app.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {GREETING: "hello from the configmap", app.conf: "listen = 8080"}
---
apiVersion: v1
kind: Secret
metadata: {name: web-creds}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      volumes: [{name: config, configMap: {name: web-config}}]
      containers:
      - name: app
        image: example/web:1
        command: [$py, -c, "import http.server as h\nclass H(h.BaseHTTPRequestHandler):\n def do_GET(s):\n  s.send_response(200); s.end_headers(); s.wfile.write(b'original app\\\\n')\nh.ThreadingHTTPServer(('0.0.0.0',8080),H).serve_forever()"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        env:
        - {name: GREETING, valueFrom: {configMapKeyRef: {name: web-config, key: GREETING}}}
        - {name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: web-creds, key: password}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        volumeMounts: [{name: config, mountPath: /etc/app}]
      - name: sidecar
        image: example/sidecar:1
        command: [$py, -m, http.server, "9000", --bind, 127.0.0.1, --directory, /etc/app]
        ports: [{containerPort: 9000}]
        volumeMounts: [{name: config, mountPath: /etc/app}]
YAML
k apply -f "$work/app.yaml"
k rollout status deployment/web --timeout=60s
ip=$(k get service web -o jsonpath='{.spec.clusterIP}')
echo "==> before the swap: curl http://$ip/"
curl -s --noproxy '*' "http://$ip/"

cat > "$work/local.py" <<'PY'
import http.server, os, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (f"LOCAL process on your machine: GREETING={os.environ.get('GREETING')!r} "
                f"POD_NAME={os.environ.get('POD_NAME')} config={open(os.environ['SWAPDEV_ROOT'] + '/etc/app/app.conf').read()!r}\n").encode()
        self.send_response(200); self.end_headers(); self.wfile.write(body)
        if self.path == "/quit": threading.Thread(target=lambda: os._exit(0)).start()
    def log_message(self, *a): pass
print("local: environment from the container:")
for k in ("GREETING", "DB_PASSWORD", "POD_NAME", "WEB_SERVICE_HOST", "WEB_SERVICE_PORT", "SWAPDEV_ROOT", "ALL_PROXY"):
    print(f"  {k}={os.environ.get(k)}")
print("local: serving on 127.0.0.1:8080", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", 8080), H).serve_forever()
PY

echo "==> swapdev swap web:app --run python3 local.py"
"$bin/swapdev" swap web:app --env-file "$work/web.env" --run "$py" "$work/local.py" &
swap_pid=$!
for _ in $(seq 1 300); do
  out=$(curl -s --noproxy '*' --max-time 2 "http://$ip/" || true)
  [[ "$out" == LOCAL* ]] && break
  sleep 0.2
done
echo "==> during the swap: curl http://$ip/"
curl -s --noproxy '*' "http://$ip/"
echo "==> pods during the swap"
k get pods -o wide
echo "==> --env-file $work/web.env (first lines)"
head -5 "$work/web.env"
curl -s --noproxy '*' "http://$ip/quit" >/dev/null || true
wait "$swap_pid"
echo "==> after the restore: curl http://$ip/"
curl -s --noproxy '*' "http://$ip/"
k get deployment web
echo "demo: done"
