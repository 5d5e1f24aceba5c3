# Helpers of scripts/e2e.sh (sourced, bash). Every call goes through the real kubectl and the
# swapdev binary, and every request to the Service is sent from the client pod inside the
# cluster, so the same helpers work on the sandbox and on a real cluster.
#
# Set by e2e.sh before use: KUBECONFIG_PATH, CONTEXT (may be empty), NS, WORK, SWAPDEV,
# PROXY_IMAGE (may be empty), APP_IMAGE, E2E_DIR, READY_TIMEOUT, SWAP_TIMEOUT, LOAD_RATE,
# LOAD_MAX_SECONDS, ON_SANDBOX.

# The sidecar's port: swapdev listens on it on this machine for the local process, so it is
# one that nothing else here is likely to use (unlike 9000, which other suites use).
SIDECAR_PORT=9471

# now, wait_until
# shellcheck source=lib/wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/wait.sh"
# free_port, descendants, kill_tree, wait_for_exit
# shellcheck source=lib/process.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/process.sh"
# kc (kubectl against KUBECONFIG_PATH and CONTEXT), create_namespace, ready, scaled_down,
# proxy_pods, snapshot, save_snapshot, same_as_before, show_difference
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"

# kc's bound on each request: 20 s, since a real cluster may be far away and busy.
KC_REQUEST_TIMEOUT=20s

# kx ARGS...: kc without a request timeout, for `exec` (the load runs for minutes).
kx() { KC_REQUEST_TIMEOUT=0 kc "$@"; }

# stamp: prefixes each line of stdin with the wall-clock time, so swapdev's phases can be
# lined up with the client's failure times.
stamp() {
    local line
    while IFS= read -r line; do printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$line"; done
}

# json_string FILE: FILE's content as a JSON string literal, which YAML reads as a double-quoted
# scalar — how the Python programs get into the manifests without quoting trouble.
json_string() { jq -Rs . < "$1"; }

# deploy_app: ConfigMap, Secret, Service and Deployment `web` (2 replicas of container `app`
# answering "original <pod>" on 8080, and a sidecar serving /etc/app on 127.0.0.1:SIDECAR_PORT),
# plus the client pod that sends every request. Waits until Ready.
deploy_app() {
    local original client
    original=$(json_string "$E2E_DIR/original_app.py")
    client=$(json_string "$E2E_DIR/client.py")
    kc -n "$NS" create -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {GREETING: hello, LOG_LEVEL: debug, app.conf: "listen = 8080\n"}
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
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 15
      volumes:
      - {name: config, configMap: {name: web-config}}
      - {name: creds, secret: {secretName: web-creds}}
      containers:
      - name: app
        image: $APP_IMAGE
        command: [python3, -c, $original]
        ports: [{name: http, containerPort: 8080}]
        env:
        - {name: MODE, value: prod}
        - {name: COMBINED, value: "\$(MODE)-x"}
        - {name: GREETING, valueFrom: {configMapKeyRef: {name: web-config, key: GREETING}}}
        - {name: PASSWORD, valueFrom: {secretKeyRef: {name: web-creds, key: password}}}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        envFrom: [{prefix: CFG_, configMapRef: {name: web-config}}]
        volumeMounts:
        - {name: config, mountPath: /etc/app}
        - {name: creds, mountPath: /etc/creds}
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
      # A sidecar: it stays in the proxy pod, and the local process reaches it on 127.0.0.1.
      - name: sidecar
        image: $APP_IMAGE
        command: [python3, -m, http.server, "$SIDECAR_PORT", --bind, 127.0.0.1, --directory, /etc/app]
        ports: [{containerPort: $SIDECAR_PORT}]
        volumeMounts: [{name: config, mountPath: /etc/app}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: e2e-client}
data: {client.py: $client}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: e2e-client}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: scripts, configMap: {name: e2e-client}}]
  containers:
  - name: client
    image: $APP_IMAGE
    command: [python3, -c, "import time\nwhile True: time.sleep(3600)"]
    volumeMounts: [{name: scripts, mountPath: /e2e-client}]
YAML
    wait_until "$READY_TIMEOUT" ready "$NS" 2 || return 1
    wait_until "$READY_TIMEOUT" client_ready || return 1
    SERVICE_URL="http://$(kc -n "$NS" get service web -o jsonpath='{.spec.clusterIP}')/"
}

client_ready() { [[ "$(kc -n "$NS" get pod client -o jsonpath='{.status.containerStatuses[0].ready}')" == true ]]; }

# client ARGS...: runs client.py in the client pod.
client() { kx -n "$NS" exec client -c client -- python3 /e2e-client/client.py "$@"; }

# answers TEXT: one request through the Service answers with TEXT (a prefix).
answers() { [[ "$(client get "$SERVICE_URL" 2>/dev/null)" == "$1"* ]]; }

# swap_annotations: the swapdev.dev/ annotation keys on Deployment web (the swap record).
swap_annotations() { kc -n "$NS" get deployment web -o json | jq -r '.metadata.annotations // {} | keys[] | select(startswith("swapdev.dev/"))'; }

# swap_up: the original is at 0 and the Service answers from the local process.
swap_up() { scaled_down "$NS" && answers local; }

# start_swap NAME [--run ...]: `swapdev swap web:app` in the background (SWAP_PID), exposing the
# app port on 127.0.0.1:$LOCAL_PORT; stderr (the phases) time-stamped in $WORK/NAME.log,
# stdout in $WORK/NAME.out.
start_swap() {
    local name=$1; shift
    "$SWAPDEV" swap web:app -n "$NS" --kubeconfig "$KUBECONFIG_PATH" ${CONTEXT:+--context "$CONTEXT"} \
        ${PROXY_IMAGE:+--proxy-image "$PROXY_IMAGE"} --timeout "${SWAP_TIMEOUT}s" --expose "$LOCAL_PORT:http" "$@" \
        > "$WORK/$name.out" 2> >(stamp > "$WORK/$name.log") &
    SWAP_PID=$!
}

# wait_swap_up: until the swap is up (0 when it is) or swapdev ended (1), at most SWAP_TIMEOUT.
wait_swap_up() {
    local limit=$(( $(now) + SWAP_TIMEOUT ))
    while (( $(now) < limit )); do
        kill -0 "$SWAP_PID" 2>/dev/null || return 1
        swap_up && return 0
        sleep 0.2
    done
    return 1
}

# wait_swap_exit SECONDS: waits for swapdev to end; SWAP_CODE is its exit code (or "timeout",
# after which it is killed as in cleanup).
wait_swap_exit() {
    local limit=$(( $(now) + $1 ))
    while kill -0 "$SWAP_PID" 2>/dev/null && (( $(now) < limit )); do sleep 0.2; done
    if kill -0 "$SWAP_PID" 2>/dev/null; then
        SWAP_CODE=timeout
        kill_swap
        return 1
    fi
    wait "$SWAP_PID"
    SWAP_CODE=$?
    SWAP_PID=""
    sleep 0.3   # the time-stamping reader drains the last lines
}

# kill_swap: SIGKILL swapdev and what it started (by pid), for a swapdev that would not end.
kill_swap() {
    [[ -n "${SWAP_PID:-}" ]] || return 0
    kill_tree "$SWAP_PID"
    SWAP_PID=""
}

# start_load NAME: the client pod's steady request loop against the Service, in the background
# (LOAD_PID); its output in $WORK/NAME.load. stop_load ends it and waits for its summary.
start_load() {
    LOAD_OUT="$WORK/$1.load"
    LOAD_STOP="/tmp/swapdev-e2e-$NS.stop"
    kx -n "$NS" exec client -c client -- python3 /e2e-client/client.py load "$SERVICE_URL" "$LOAD_STOP" "$LOAD_MAX_SECONDS" \
        "$LOAD_RATE" 2 > "$LOAD_OUT" 2>&1 &
    LOAD_PID=$!
}
stop_load() {
    kx -n "$NS" exec client -c client -- python3 -c "open('$LOAD_STOP', 'w').close()" >/dev/null 2>&1
    local limit=$(( $(now) + 15 ))
    while kill -0 "$LOAD_PID" 2>/dev/null && (( $(now) < limit )); do sleep 0.2; done
    kill "$LOAD_PID" 2>/dev/null
    wait "$LOAD_PID" 2>/dev/null
    LOAD_PID=""
}

# The proxy container's sshd sessions (children of the sshd whose pid sshd.pid holds — not the
# dead-man switch, also its child), killed with SIGKILL: what a dropped connection does to
# the tunnel. POSIX sh + /proc, so it runs in the proxy image and in the sandbox alike.
KILL_SSHD_SESSIONS='
state=${SWAPDEV_STATE_DIR:-/var/run/swapdev}
master=$(cat "$state/sshd.pid") || exit 1
killed=""
for status in /proc/[0-9]*/status; do
    dir=${status%/status}
    [ "$(sed -n "s/^PPid:[[:space:]]*//p" "$status" 2>/dev/null)" = "$master" ] || continue
    case "$(cat "$dir/comm" 2>/dev/null)" in
        sshd*) kill -9 "${dir#/proc/}" 2>/dev/null && killed="$killed ${dir#/proc/}" ;;
    esac
done
[ -n "$killed" ] || { echo "no sshd session below sshd $master"; exit 1; }
echo "killed sshd session(s):$killed"
'

# start_trace: with E2E_TRACE=1, every 0.5 s the Service's ready endpoints and the pods (IP,
# ready, terminating) go to $WORK/trace.log, time-stamped — to line up client failures with
# what the cluster did. TRACE_PID; cleanup ends it.
start_trace() {
    [[ -n "${E2E_TRACE:-}" ]] || return 0
    (
        while true; do
            printf '%s endpoints: %s| pods: %s\n' "$(date +%H:%M:%S.%3N)" \
                "$(kc -n "$NS" get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.targetRef.name}/{.ip} {end}' 2>&1)" \
                "$(kc -n "$NS" get pods -o jsonpath='{range .items[*]}{.metadata.name}/{.status.podIP}/ready={.status.containerStatuses[0].ready}{.metadata.deletionTimestamp} {end}' 2>&1)"
            # On the sandbox pod IPs are reachable from here: the ready endpoints probed directly
            # (not through the Service), to tell a Service-proxy problem from a pod problem.
            if [[ -n "${ON_SANDBOX:-}" ]]; then
                local address
                for address in $(kc -n "$NS" get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' 2>/dev/null); do
                    printf '    direct %s:8080 → %s\n' "$address" "$(curl -s --noproxy '*' --max-time 0.5 "http://$address:8080/" 2>&1 || echo "failed ($?)")"
                done
                # The host's ARP entries for the pod network (a stale one blackholes a reused pod IP).
                printf '    neighbours: %s\n' "$(ip -4 neigh show 2>/dev/null | grep -E '^10\.24[0-9]\.' | tr '\n' ';')"
            fi
            sleep 0.5
        done
    ) > "$WORK/trace.log" 2>&1 &
    TRACE_PID=$!
}
