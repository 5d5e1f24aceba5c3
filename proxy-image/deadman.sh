#!/bin/sh
# The swap's dead-man switch, run in the background by entrypoint.sh when SWAPDEV_DEADMAN_DEPLOYMENT
# is set. POSIX sh + curl only.
#
# It polls the Deployment every few seconds. When the swap's heartbeat annotation has not changed
# for SWAPDEV_DEADMAN_TIMEOUT seconds — measured with this pod's own clock, from the last change
# it saw, so the laptop's clock skew does not matter — swapdev is gone (killed with -9, laptop
# asleep or offline). The switch then undoes the swap as `swapdev restore` would:
#   1. scales the Deployment back to swapdev.dev/original-replicas,
#   2. unpauses the KEDA ScaledObjects the swap paused (when they were not paused before),
#   3. removes the swapdev.dev/ annotations,
#   4. deletes this pod (its ServiceAccount, Role and RoleBinding go with it: ownerReferences).
# Each step is idempotent; a failed one is retried on the next round. When the API server cannot
# be reached, the clock restarts once it answers again, so swapdev gets a full timeout to renew
# after an API-server restart.
#
# Environment (set by swapdev, see DeadManPlan):
#   SWAPDEV_DEADMAN_DEPLOYMENT, SWAPDEV_DEADMAN_NAMESPACE, SWAPDEV_DEADMAN_POD, SWAPDEV_DEADMAN_SWAP_ID
#   SWAPDEV_DEADMAN_TIMEOUT        seconds without a heartbeat change before it acts
#   SWAPDEV_DEADMAN_CREDENTIALS    directory with token and ca.crt (the swap's ServiceAccount Secret)
#   SWAPDEV_DEADMAN_SCALEDOBJECTS  comma-separated KEDA ScaledObjects to unpause (may be empty)
#   SWAPDEV_DEADMAN_INTERVAL       seconds between polls (default 3)
#   SWAPDEV_DEADMAN_API            API server URL (default https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)
set -u

deployment="${SWAPDEV_DEADMAN_DEPLOYMENT:-}"
namespace="${SWAPDEV_DEADMAN_NAMESPACE:-default}"
pod="${SWAPDEV_DEADMAN_POD:-}"
swap_id="${SWAPDEV_DEADMAN_SWAP_ID:-}"
timeout="${SWAPDEV_DEADMAN_TIMEOUT:-600}"
creds="${SWAPDEV_DEADMAN_CREDENTIALS:-/var/run/swapdev-deadman}"
scaled_objects="${SWAPDEV_DEADMAN_SCALEDOBJECTS:-}"
interval="${SWAPDEV_DEADMAN_INTERVAL:-3}"

log() { echo "swapdev-deadman: $*"; }

if [ -z "$deployment" ] || [ -z "$pod" ] || [ -z "$swap_id" ]; then
    log "error: SWAPDEV_DEADMAN_DEPLOYMENT, SWAPDEV_DEADMAN_POD and SWAPDEV_DEADMAN_SWAP_ID must be set; switch off"
    exit 1
fi
command -v curl >/dev/null 2>&1 || { log "error: curl not found in the proxy image; switch off"; exit 1; }

if [ -n "${SWAPDEV_DEADMAN_API:-}" ]; then
    api="$SWAPDEV_DEADMAN_API"
else
    host="${KUBERNETES_SERVICE_HOST:-}"
    [ -n "$host" ] || { log "error: KUBERNETES_SERVICE_HOST is not set; switch off"; exit 1; }
    case "$host" in *:*) host="[$host]" ;; esac
    api="https://$host:${KUBERNETES_SERVICE_PORT:-443}"
fi

body="${TMPDIR:-/tmp}/swapdev-deadman.$$"
# curl's own message when a request fails (what "HTTP 000" hides: refused, timed out, TLS).
errors="$body.err"
trap 'rm -f "$body" "$errors"' EXIT

# request METHOD PATH [CONTENT-TYPE DATA]: prints the HTTP status (000 when unreachable); the
# response body is in $body.
request() {
    token=$(cat "$creds/token" 2>/dev/null) || token=""
    if [ $# -ge 4 ]; then
        curl -sS --max-time 10 --cacert "$creds/ca.crt" -H "Authorization: Bearer $token" -X "$1" \
            -H "Content-Type: $3" --data "$4" -o "$body" -w '%{http_code}' "$api$2" 2>"$errors" || true
    else
        curl -sS --max-time 10 --cacert "$creds/ca.crt" -H "Authorization: Bearer $token" -X "$1" \
            -o "$body" -w '%{http_code}' "$api$2" 2>"$errors" || true
    fi
}

# annotation KEY: the value of metadata.annotations[KEY] in $body (JSON strings without quotes).
annotation() {
    key=$(printf '%s' "$1" | sed 's/[.\/]/\\&/g')
    tr -d '\n' < "$body" | sed -n "s/.*\"$key\" *: *\"\([^\"]*\)\".*/\1/p"
}

deployment_path="/apis/apps/v1/namespaces/$namespace/deployments/$deployment"
merge="application/merge-patch+json"

delete_self() {
    log "deleting proxy pod $namespace/$pod"
    request DELETE "/api/v1/namespaces/$namespace/pods/$pod" >/dev/null
}

unpause_keda() {
    old_ifs=$IFS
    IFS=,
    for object in $scaled_objects; do
        IFS=$old_ifs
        [ -n "$object" ] || continue
        path="/apis/keda.sh/v1alpha1/namespaces/$namespace/scaledobjects/$object"
        [ "$(request GET "$path")" = 200 ] || continue
        [ "$(annotation swapdev.dev/paused-by)" = "$swap_id" ] || continue
        # Only a ScaledObject that had no pause of its own is unpaused here; swapdev restore
        # puts back any earlier pause values.
        if tr -d '\n' < "$body" | grep -q 'paused\\":null,\\"autoscaling.keda.sh/paused-replicas\\":null}'; then
            request PATCH "$path" "$merge" '{"metadata":{"annotations":{"autoscaling.keda.sh/paused-replicas":null,"swapdev.dev/paused-by":null,"swapdev.dev/paused-before":null}}}' >/dev/null
            log "unpaused KEDA ScaledObject $object"
        else
            log "ScaledObject $object had a pause of its own before the swap; left for swapdev restore"
        fi
    done
    IFS=$old_ifs
}

restore() {
    replicas=$(annotation swapdev.dev/original-replicas)
    case "$replicas" in ''|*[!0-9]*) log "no readable swapdev.dev/original-replicas on $deployment; leaving it to swapdev restore"; return 1 ;; esac
    log "no heartbeat from swapdev for ${timeout}s: restoring deployment $namespace/$deployment to $replicas replica(s)"
    code=$(request PATCH "$deployment_path/scale" "$merge" "{\"spec\":{\"replicas\":$replicas}}")
    [ "$code" = 200 ] || { log "scaling back failed (HTTP $code); retrying"; return 1; }
    unpause_keda
    # Every swapdev.dev/ key of the record, known or newer than this script (null deletes it).
    keys=$({ tr -d '\n' < "$body" | grep -o '"swapdev\.dev/[a-z0-9-]*" *:' | sed 's/^"swapdev\.dev\/\([a-z0-9-]*\)".*/\1/'
             printf '%s\n' swap-id original-replicas container owner started-at heartbeat proxy-pod restore-after spec-fingerprint; } | sort -u)
    removal='{"metadata":{"annotations":{'
    for key in $keys; do
        removal="$removal\"swapdev.dev/$key\":null,"
    done
    removal="${removal%,}}}}"
    code=$(request PATCH "$deployment_path" "$merge" "$removal")
    [ "$code" = 200 ] || { log "removing the swap annotations failed (HTTP $code); retrying"; return 1; }
    delete_self
}

log "watching deployment $namespace/$deployment (swap $swap_id): restores after ${timeout}s without a heartbeat"
last_seen=""
last_error=200
last_change=$(date +%s)
while :; do
    code=$(request GET "$deployment_path")
    now=$(date +%s)
    case "$code" in
        200)
            if [ "$(annotation swapdev.dev/swap-id)" != "$swap_id" ]; then
                log "swap $swap_id is no longer recorded on $deployment (restored)"
                delete_self
                exit 0
            else
                heartbeat=$(annotation swapdev.dev/heartbeat)
                if [ "$heartbeat" != "$last_seen" ]; then
                    last_seen=$heartbeat
                    last_change=$now
                elif [ $((now - last_change)) -ge "$timeout" ]; then
                    restore
                fi
            fi
            ;;
        404)
            log "deployment $namespace/$deployment is gone"
            delete_self
            exit 0
            ;;
        *)
            # API server unreachable or refusing: swapdev cannot renew either. Restart the clock so
            # it gets a full timeout once the server is back.
            last_change=$now
            if [ "$code" != "$last_error" ]; then
                if [ "$code" = 000 ]; then
                    log "cannot reach the API server at $api: $(head -c 300 "$errors" 2>/dev/null | tr '\n' ' ')"
                else
                    log "cannot read deployment $namespace/$deployment from $api (HTTP $code): $(head -c 300 "$body" 2>/dev/null)"
                fi
            fi
            ;;
    esac
    last_error=$code
    sleep "$interval"
done
