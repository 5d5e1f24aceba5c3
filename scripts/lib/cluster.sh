# Cluster helpers shared by the scripted suites — scripts/chaos.sh, scripts/e2e.sh,
# scripts/bad-input.sh (sourced, bash). Every call goes through the real kubectl, so they work
# on the sandbox and on a real cluster alike. Safe under `set -euo pipefail`.
#
# Uses (set by the suite before calling):
#   KUBECONFIG_PATH     the kubeconfig; unset or empty: kubectl's own default ($KUBECONFIG)
#   CONTEXT             a kubeconfig context; unset or empty: the current-context
#   KC_REQUEST_TIMEOUT  kubectl's --request-timeout for kc (default 10s; 0: none)
#   WORK                the suite's work directory (save_snapshot keeps its snapshots there)

# kc ARGS...: kubectl against the cluster under test, each request bounded, so a frozen or
# unreachable API server fails a check instead of hanging the suite.
kc() {
    kubectl ${KUBECONFIG_PATH:+--kubeconfig "$KUBECONFIG_PATH"} ${CONTEXT:+--context "$CONTEXT"} \
        --request-timeout="${KC_REQUEST_TIMEOUT:-10s}" "$@"
}

# create_namespace NS [KEY=VALUE...]: creates namespace NS, with those labels. JSON, not
# `kubectl create namespace` (which sends protobuf; the sandbox speaks JSON only); the same on
# a real cluster.
create_namespace() {
    local ns=$1; shift
    jq -cn --arg name "$ns" '{apiVersion: "v1", kind: "Namespace", metadata: {name: $name}}
        | if $ARGS.positional == [] then . else .metadata.labels =
            ($ARGS.positional | map(capture("^(?<key>[^=]*)=(?<value>.*)$")) | from_entries) end' \
        --args "$@" | kc create -f - >/dev/null
}

# ready NS N [DEPLOYMENT]: Deployment DEPLOYMENT (default web) in NS has N ready replicas.
ready() {
    [[ "$(kc get deployment "${3:-web}" -n "$1" -o jsonpath='{.status.readyReplicas}')" == "$2" ]]
}

# scaled_down NS [DEPLOYMENT]: Deployment DEPLOYMENT (default web) in NS is scaled to 0 — what a
# swap does to the original once its proxy pod serves.
scaled_down() {
    [[ "$(kc get deployment "${2:-web}" -n "$1" -o jsonpath='{.spec.replicas}')" == 0 ]]
}

# proxy_pods NS: the names of the swap proxy pods in NS (label swapdev.dev/swap), space
# separated; empty when there is none. Fails when the API cannot be read.
proxy_pods() {
    kc get pods -n "$1" -l swapdev.dev/swap -o jsonpath='{.items[*].metadata.name}'
}

# service_answers NS SERVICE TEXT: GET /who through the Service's ClusterIP, sent from this
# host, returns exactly TEXT. Only where ClusterIPs are reachable from here (the sandbox); the
# e2e suite asks from a client pod instead, which works on any cluster.
service_answers() {
    local ip
    ip=$(kc get service "$2" -n "$1" -o jsonpath='{.spec.clusterIP}') || return 1
    [[ "$(curl -s --noproxy '*' --max-time 2 "http://$ip/who" || true)" == "$3" ]]
}

# The snapshots say "the cluster is exactly as it was": a swap (or a failed one) must leave
# every object as it found it. SNAPSHOT_KINDS are the kinds of objects compared in full;
# SNAPSHOT_JQ holds the jq definitions that make them comparable:
#   comparable         one object without what the server and controllers own and change by
#                      themselves (status, resourceVersion, uid, creationTimestamp, generation,
#                      managedFields, the Deployment controller's revision annotation), and
#                      without an annotations map that is left empty
#   comparable_objects an array of objects, each comparable, sorted by kind and name
#   pods_by_owner      an array of pods as {owner: count} of the live ones (terminating pods
#                      left out): a Deployment's pods get new names when it is scaled back, so
#                      only how many each owner has can be compared
SNAPSHOT_KINDS=deployments,services,configmaps,secrets,serviceaccounts,roles,rolebindings,horizontalpodautoscalers
SNAPSHOT_JQ='
def comparable:
    del(.status, .metadata.resourceVersion, .metadata.uid, .metadata.creationTimestamp,
        .metadata.generation, .metadata.managedFields,
        .metadata.annotations["deployment.kubernetes.io/revision"])
    | if (.metadata.annotations // {}) == {} then del(.metadata.annotations) else . end;
def comparable_objects: map(comparable) | sort_by(.kind, .metadata.name);
def pods_by_owner:
    [.[] | select(.metadata.deletionTimestamp == null)
        | (.metadata.ownerReferences[0].name // ("bare:" + .metadata.name))]
    | group_by(.) | map({(.[0]): length}) | add // {};
'

# snapshot NS: the state of namespace NS as canonical JSON — its objects of SNAPSHOT_KINDS, made
# comparable, then its pods by owner. Errors are printed into it too (so a difference shows
# them), and make it fail.
snapshot() {
    local ns=$1 status=0
    {
        kc get "$SNAPSHOT_KINDS" -n "$ns" -o json | jq -S "$SNAPSHOT_JQ"'.items | comparable_objects' || status=1
        kc get pods -n "$ns" -o json | jq -S "$SNAPSHOT_JQ"'.items | pods_by_owner' || status=1
    } 2>&1
    return "$status"
}

# save_snapshot NS: keeps NS's snapshot in $WORK/NS.before, the state same_as_before compares
# with; fails when the namespace could not be read.
save_snapshot() { snapshot "$1" > "$WORK/$1.before"; }

# same_as_before NS: namespace NS equals its saved snapshot.
same_as_before() { [[ "$(snapshot "$1")" == "$(cat "$WORK/$1.before")" ]]; }

# show_difference NS: how NS differs from its saved snapshot, a short indented diff for the
# details under a FAIL line.
show_difference() {
    diff <(cat "$WORK/$1.before") <(snapshot "$1") | head -20 | sed 's/^/      /' || true
}
