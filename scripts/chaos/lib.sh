# Helpers of scripts/chaos.sh (sourced). Needs: kubectl, jq, curl, python3.
# Set by chaos.sh before use: KUBECONFIG_PATH, CONTEXT (empty), WORK, SWAPDEV, RESTORE_AFTER,
# API_PORT; SWAP_OPTIONS may be set around start_swap.

# now, wait_until
# shellcheck source=lib/wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/wait.sh"
# free_port, descendants, kill_tree, wait_for_exit
# shellcheck source=lib/process.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/process.sh"
# kc, create_namespace, ready, scaled_down, proxy_pods, service_answers, snapshot,
# save_snapshot, same_as_before, show_difference
# shellcheck source=lib/cluster.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cluster.sh"

# deploy_app NS [hpa]: a namespace with the app: Deployment web (2 replicas) serving "original"
# at /who on 8080, Service web:80 and a ConfigMap (with "hpa": an HPA, min 2, max 4, on web);
# waits until Ready (and the HPA active) and saves a snapshot.
deploy_app() {
    local ns=$1 extra=${2:-}
    create_namespace "$ns" || return 1
    kc -n "$ns" create -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {GREETING: hello}
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
      containers:
      - name: app
        image: example/web:1
        command: [python3, -m, http.server, "8080", --directory, "$WORK/original"]
        ports: [{name: http, containerPort: 8080}]
        env: [{name: GREETING, valueFrom: {configMapKeyRef: {name: web-config, key: GREETING}}}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
YAML
    wait_until 60 ready "$ns" 2 || return 1
    if [[ "$extra" == hpa ]]; then
        kc -n "$ns" create -f - >/dev/null <<YAML || return 1
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 4
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
YAML
        wait_until 20 hpa_condition "$ns" ScalingActive True || return 1
    fi
    save_snapshot "$ns"
}

# record_written NS: swapdev reported the record (its log), the earliest moment to kill it.
record_written() { grep -q "recorded on deployment" "$WORK/$1.swap.log" 2>/dev/null; }

# wait_fast SECONDS COMMAND...: like wait_until, polling every 20 ms (for races with swapdev).
wait_fast() {
    local limit=$(( $(now) + $1 )); shift
    while (( $(now) < limit )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}

recorded() { [[ -n "$(kc get deployment web -n "$1" -o jsonpath='{.metadata.annotations.swapdev\.dev/swap-id}')" ]]; }
proxy_exists() { [[ -n "$(proxy_pods "$1")" ]]; }
# restored_or_switch_done NS: the namespace is as before, or (both read successfully) there is
# neither a proxy pod nor a swap record left: whatever restored it has finished.
restored_or_switch_done() {
    same_as_before "$1" && return 0
    local pods record
    pods=$(proxy_pods "$1") || return 1
    record=$(kc get deployment web -n "$1" -o jsonpath='{.metadata.annotations.swapdev\.dev/swap-id}') || return 1
    [[ -z "$pods" && -z "$record" ]]
}
proxy_running() { [[ "$(kc get pods -n "$1" -l swapdev.dev/swap -o jsonpath='{.items[0].status.phase}')" == Running ]]; }
proxy_pod() { kc get pods -n "$1" -l swapdev.dev/swap -o jsonpath='{.items[0].metadata.name}'; }

# tunnel_up NS: the original is at 0 and Service web answers "local" (from the host).
tunnel_up() { scaled_down "$1" && service_answers "$1" web local; }

# start_swap NS: runs swapdev swap in the background (pid in SWAP_PID, log in $WORK/NS.swap.log);
# the local process serves "local" at /who.
start_swap() {
    local ns=$1 port
    # A free port rather than a fixed one: another chaos run or test on this host may hold it,
    # and the Service would then answer "local" from the other run's process.
    port=$(free_port) || return 1
    "$SWAPDEV" swap web:app -n "$ns" --kubeconfig "$KUBECONFIG_PATH" --restore-after "${RESTORE_AFTER}s" \
        --timeout 60s --expose "$port:http" ${SWAP_OPTIONS[@]+"${SWAP_OPTIONS[@]}"} \
        --run python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/local" \
        > "$WORK/$ns.swap.log" 2>&1 &
    SWAP_PID=$!
}

# stop_swap: SIGINT, then wait up to 60 s for swapdev to restore and exit (SIGKILL after).
stop_swap() {
    kill -INT "$SWAP_PID" 2>/dev/null || return 0
    wait_for_exit "$SWAP_PID" 60
}

# kill9_swap: what a crash does to swapdev; then its orphaned local command is ended (by pid)
# so it does not hold its port for the next scenario.
kill9_swap() { kill_tree "$SWAP_PID"; }

# restore_once NS: one `swapdev restore web`.
restore_once() { "$SWAPDEV" restore web -n "$1" --kubeconfig "$KUBECONFIG_PATH" --timeout 60s >> "$WORK/$1.restore.log" 2>&1; }

# hpa_condition NS TYPE STATUS [REASON]: HPA web has that condition.
hpa_condition() {
    kc get horizontalpodautoscaler web -n "$1" -o json | jq -e --arg type "$2" --arg status "$3" --arg reason "${4:-}" \
        '[.status.conditions[]? | select(.type == $type and .status == $status and ($reason == "" or .reason == $reason))] | length > 0' >/dev/null
}

# hpa_rescales NS: how many SuccessfulRescale events HPA web has made; hpa_rescaled_since NS N: more than N.
hpa_rescales() {
    kc get events -n "$1" -o json | jq '[.items[] | select(.reason == "SuccessfulRescale"
        and .involvedObject.kind == "HorizontalPodAutoscaler" and .involvedObject.name == "web")] | length'
}
hpa_rescaled_since() { local count; count=$(hpa_rescales "$1") && (( count > $2 )); }

# log_count NS TEXT: how many lines of swapdev's log in NS contain TEXT.
log_count() {
    local count
    count=$(grep -c -- "$2" "$WORK/$1.swap.log" 2>/dev/null)
    echo "${count:-0}"
}
# log_count_above NS TEXT N: more than N such lines.
log_count_above() { (( $(log_count "$1" "$2") > $3 )); }

# api_refuses / api_answers: whether the sandbox's API port refuses connections (curl exit 7),
# or answers at all (any HTTP status).
api_refuses() { curl -sk --noproxy '*' --max-time 1 -o /dev/null "https://127.0.0.1:$API_PORT/version"; [[ $? -eq 7 ]]; }
api_answers() { curl -sk --noproxy '*' --max-time 1 -o /dev/null "https://127.0.0.1:$API_PORT/version"; }
