# The bad-input corpus of scripts/bad-input.sh (sourced). Each `bad` case names the phrases its
# one error line must hold — what is wrong and what to do — and each `good` case the bytes the
# local process must receive (scripts/bad-input/fixtures.py). See lib.sh for the checks.

# kubeconfig: files that cannot be read or are malformed, contexts/clusters/users that do not
# exist, servers that cannot be reached or trusted, credentials that do not work.
cases_kubeconfig() {
    local dir="$ROOT/scripts/bad-input/kubeconfigs" k="$WORK/kubeconfigs"
    mkdir -p "$k/a-directory" "$WORK/empty-home"
    printf '\xff\xfe\x00\x01\x80binary' > "$k/binary"
    # Variants of the sandbox's working kubeconfig, each with one thing wrong.
    kc config view --raw -o json > "$k/good.json"
    variant() { jq "$2" "$k/good.json" > "$k/$1.json"; }
    variant wrong-token '.users[0].user.token = "not-the-token"'
    variant refused '.clusters[0].cluster.server = "https://127.0.0.1:1"'
    variant ca-not-pem '.clusters[0].cluster["certificate-authority-data"] = ("not a certificate" | @base64)'
    variant exec-missing '.users[0].user = {exec: {apiVersion: "client.authentication.k8s.io/v1", interactiveMode: "Never",
        command: "swapdev-no-such-plugin", installHint: "install swapdev-no-such-plugin with: apt install no-such-plugin"}}'
    variant exec-fails '.users[0].user = {exec: {apiVersion: "client.authentication.k8s.io/v1", interactiveMode: "Never", command: "false"}}'
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=another-ca -keyout "$k/other-ca.key" -out "$k/other-ca.crt" 2>/dev/null
    variant wrong-ca ".clusters[0].cluster[\"certificate-authority-data\"] = \"$(base64 -w0 < "$k/other-ca.crt")\""
    local context
    context=$(jq -r '.["current-context"]' "$k/good.json")

    bad "kubeconfig: file does not exist" "cannot read kubeconfig" "no such file" "--kubeconfig" -- \
        "$SWAPDEV" status --kubeconfig "$k/no-such-file"
    bad "kubeconfig: a directory" "cannot read kubeconfig" "directory" -- \
        "$SWAPDEV" status --kubeconfig "$k/a-directory"
    bad "kubeconfig: binary garbage" "not UTF-8" "--kubeconfig" -- \
        "$SWAPDEV" status --kubeconfig "$k/binary"
    bad "kubeconfig: not YAML" "is not valid" "line" -- \
        "$SWAPDEV" swap web --kubeconfig "$dir/not-yaml.yaml"
    bad "kubeconfig: a list at the top" "top level is not a mapping" -- \
        "$SWAPDEV" status --kubeconfig "$dir/top-level-list.yaml"
    bad "kubeconfig: clusters is not a list" '`clusters` is not a list' -- \
        "$SWAPDEV" status --kubeconfig "$dir/clusters-not-list.yaml"
    bad "kubeconfig: entry without a name" "has no name" -- \
        "$SWAPDEV" status --kubeconfig "$dir/entry-without-name.yaml"
    bad "kubeconfig: empty file" "defines no contexts" -- \
        "$SWAPDEV" status --kubeconfig "$dir/empty.yaml"
    bad "kubeconfig: no contexts" "defines no contexts" -- \
        "$SWAPDEV" status --kubeconfig "$dir/no-contexts.yaml"
    bad "kubeconfig: no current-context" "no current-context" "--context" "available: sandbox" -- \
        "$SWAPDEV" status --kubeconfig "$dir/no-current-context.yaml"
    bad "kubeconfig: unknown context" 'context "nope"' "available: $context" -- \
        "$SWAPDEV" swap web --kubeconfig "$KUBECONFIG_PATH" --context nope
    bad "kubeconfig: unknown context (unicode)" 'context "prodüction"' "available: $context" -- \
        "$SWAPDEV" status --kubeconfig "$KUBECONFIG_PATH" --context prodüction
    bad "kubeconfig: context names a missing cluster" 'cluster "sandbox"' "available: other" -- \
        "$SWAPDEV" status --kubeconfig "$dir/missing-cluster.yaml"
    bad "kubeconfig: context names a missing user" 'user "admin"' "available: someone-else" -- \
        "$SWAPDEV" status --kubeconfig "$dir/missing-user.yaml"
    bad "kubeconfig: server without scheme" 'unusable server "127.0.0.1:6443"' "https://HOST:PORT" -- \
        "$SWAPDEV" status --kubeconfig "$dir/server-without-scheme.yaml"
    bad "kubeconfig: CA data not base64" "certificate-authority-data" "not valid base64" -- \
        "$SWAPDEV" status --kubeconfig "$dir/bad-base64-ca.yaml"
    bad "kubeconfig: CA file missing" "no-such-ca.crt" "cannot be read" -- \
        "$SWAPDEV" status --kubeconfig "$dir/missing-ca-file.yaml"
    bad "kubeconfig: CA data not PEM" "certificate-authority" "PEM" -- \
        "$SWAPDEV" status --kubeconfig "$k/ca-not-pem.json"
    bad "kubeconfig: CA of another cluster" "TLS" "certificate-authority" -- \
        "$SWAPDEV" swap web -n "$NS" --kubeconfig "$k/wrong-ca.json"
    bad "kubeconfig: exec apiVersion v1alpha1" "v1alpha1" "client.authentication.k8s.io/v1" -- \
        "$SWAPDEV" status --kubeconfig "$dir/exec-v1alpha1.yaml"
    bad "kubeconfig: auth-provider" "auth-provider" "exec plugin" -- \
        "$SWAPDEV" status --kubeconfig "$dir/auth-provider.yaml"
    bad "kubeconfig: exec plugin not installed" "swapdev-no-such-plugin" "apt install no-such-plugin" -- \
        "$SWAPDEV" swap web -n "$NS" --kubeconfig "$k/exec-missing.json"
    bad "kubeconfig: exec plugin fails" "credential plugin false failed" "exit code 1" -- \
        "$SWAPDEV" status --kubeconfig "$k/exec-fails.json"
    bad "kubeconfig: wrong token" "401" "log in again" -- \
        "$SWAPDEV" swap web -n "$NS" --kubeconfig "$k/wrong-token.json"
    bad "kubeconfig: server refuses connections" "refused" "is the cluster running" -- \
        "$SWAPDEV" restore web -n "$NS" --kubeconfig "$k/refused.json"
    bad "kubeconfig: KUBECONFIG names no file" "no kubeconfig found" "--kubeconfig" -- \
        env KUBECONFIG="$k/missing-1:$k/missing-2" HOME="$WORK/empty-home" "$SWAPDEV" status
}

# flags: unknown flags and subcommands, bad values, bad port specs — rejected before any request.
cases_flags() {
    local s=("$SWAPDEV" swap -n "$NS" --kubeconfig "$KUBECONFIG_PATH")
    bad "flags: unknown subcommand" "frobnicate" "swapdev --help" -- "$SWAPDEV" frobnicate
    bad "flags: unknown flag" "--bogus" "swapdev swap --help" -- "${s[@]}" web --bogus
    bad "flags: swap without a target" "no target" "DEPLOYMENT[:CONTAINER]" -- "${s[@]}"
    bad "flags: --timeout banana" 'invalid --timeout "banana"' "90s" -- "${s[@]}" web --timeout banana
    bad "flags: --restore-after 1s" "--restore-after" "at least 5s" -- "${s[@]}" web --restore-after 1s
    bad "flags: --log-level loud" "loud" "--log-level" -- "${s[@]}" web --log-level loud
    # A kubeconfig that cannot be read: should swapdev accept the empty --run, the case fails
    # on that error instead of swapping and waiting for a Ctrl-C that never comes.
    bad "flags: --run without a command" "--run" "CMD" -- "$SWAPDEV" swap web --kubeconfig "$WORK/no-such-kubeconfig" --run
    bad "ports: --expose 99999" "99999" "1-65535" -- "${s[@]}" web --expose 99999
    bad "ports: --expose 0" "outside 1-65535" -- "${s[@]}" web --expose 0
    bad "ports: --expose 1:2:3" "too many colons" "[LOCAL:]REMOTE" -- "${s[@]}" web --expose 1:2:3
    bad "ports: --expose abc:80" 'local port "abc" is not a number' -- "${s[@]}" web --expose abc:80
    bad "ports: --expose 3000:HTTP" '"HTTP" is neither a port number nor a container port name' -- "${s[@]}" web --expose 3000:HTTP
    bad "ports: --expose 3000:" "[LOCAL:]REMOTE" -- "${s[@]}" web --expose 3000:
    bad "ports: --expose 3000:ünï" "ünï" "[LOCAL:]REMOTE" -- "${s[@]}" web --expose 3000:ünï
    bad "ports: --to-pod x" '"x" is not a number' -- "${s[@]}" web --to-pod x
    bad "status: -o yaml" "yaml" "table" "json" -- "$SWAPDEV" status --kubeconfig "$KUBECONFIG_PATH" -o yaml
    bad "restore: neither DEPLOYMENT nor --all" "name one DEPLOYMENT or pass --all" -- "$SWAPDEV" restore --kubeconfig "$KUBECONFIG_PATH"
    bad "restore: DEPLOYMENT and --all" "name one DEPLOYMENT or pass --all" -- "$SWAPDEV" restore web --all --kubeconfig "$KUBECONFIG_PATH"
    bad "restore: -A without --all" "-A needs --all" -- "$SWAPDEV" restore web -A --kubeconfig "$KUBECONFIG_PATH"
    bad "restore: --timeout 0s" 'invalid --timeout "0s"' -- "$SWAPDEV" restore web -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --timeout 0s
    mkdir -p "$WORK/dev-empty" "$WORK/dev-src"
    printf 'target: [unclosed\n' > "$WORK/dev-empty/broken.yaml"
    local d=("$SWAPDEV" dev -n "$NS" --kubeconfig "$KUBECONFIG_PATH")
    bad "dev: no target and no swapdev.yaml" "no target" "swapdev.yaml" -- bash -c "cd '$WORK/dev-empty' && exec \"\$@\"" _ "${d[@]}"
    bad "dev: -f names a missing file" "no-such.yaml" -- "${d[@]}" -f "$WORK/no-such.yaml"
    bad "dev: -f names a malformed file" "broken.yaml" -- "${d[@]}" -f "$WORK/dev-empty/broken.yaml"
    bad "dev: --sync without REMOTE" "sync rule" "LOCAL:REMOTE" -- "${d[@]}" web --sync "$WORK/dev-src" --run true
    bad "dev: --port-forward 70000" "70000" -- "${d[@]}" web --sync "$WORK/dev-src:/app" --port-forward 70000 --run true
}

# targets: names that cannot be Deployments or containers, and ones that do not exist.
cases_targets() {
    local s=("$SWAPDEV" swap -n "$NS" --kubeconfig "$KUBECONFIG_PATH")
    bad "target: upper case and underscore" 'invalid swap target "Web_App"' "DEPLOYMENT:CONTAINER" -- "${s[@]}" Web_App
    bad "target: unicode deployment" 'invalid swap target "wéb"' -- "${s[@]}" wéb
    bad "target: unicode container" 'invalid swap target "web:äpp"' -- "${s[@]}" web:äpp
    bad "target: empty container" 'invalid swap target "web:"' -- "${s[@]}" web:
    bad "target: deployment does not exist" '"nosuch" not found' "-n" -- "${s[@]}" nosuch
    bad "target: container does not exist" 'no container "nope"' "app" -- "${s[@]}" web:nope
    bad "target: several containers, none named" "pair:CONTAINER" "app, sidecar" -- "${s[@]}" pair
    bad "target: --expose names an undeclared port" 'no port named "grpc"' "http" -- "${s[@]}" web --expose 9000:grpc
    bad "namespace: swap -n nope" 'namespace "nope"' -- "$SWAPDEV" swap web -n nope --kubeconfig "$KUBECONFIG_PATH"
    bad "namespace: swap -n with unicode" "nämespace" -- "$SWAPDEV" swap web -n nämespace --kubeconfig "$KUBECONFIG_PATH"
    bad "namespace: status -n nope" 'namespace "nope" does not exist' -- "$SWAPDEV" status -n nope --kubeconfig "$KUBECONFIG_PATH"
    bad "namespace: restore web -n nope" 'namespace "nope"' -- "$SWAPDEV" restore web -n nope --kubeconfig "$KUBECONFIG_PATH"
    bad "namespace: restore --all -n nope" 'namespace "nope" does not exist' -- "$SWAPDEV" restore --all -n nope --kubeconfig "$KUBECONFIG_PATH"
    bad "restore: deployment does not exist" '"nosuch" not found' -- "$SWAPDEV" restore nosuch -n "$NS" --kubeconfig "$KUBECONFIG_PATH"
    bad "dev: deployment does not exist" '"nosuch" not found' -- "$SWAPDEV" dev nosuch -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --sync "$WORK/dev-src:/app" --run true
    bad "dev: container does not exist" 'no container "nope"' -- "$SWAPDEV" dev web:nope -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --sync "$WORK/dev-src:/app" --run true
    bad "dev: local sync directory missing" "no-such-dir" "--sync" -- "$SWAPDEV" dev web -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --sync "$WORK/no-such-dir:/app" --run true
}

# cluster: input that is only found bad once swapdev has started changing the cluster — it
# must put everything back before it reports the error.
cases_cluster() {
    # --timeout 10s bounds the restore's wait for originals that were never Ready (toobig, binenv).
    local s=("$SWAPDEV" swap -n "$NS" --kubeconfig "$KUBECONFIG_PATH" --timeout 10s)
    bad "proxy image cannot be pulled" "cannot be pulled" "--proxy-image" -- \
        "${s[@]}" web --proxy-image registry.invalid/does-not-exist/swapdev-proxy:0.1.0 --run true
    bad "env value over Linux's 128 KiB limit" "variable HUGE" "128 KiB" "as a volume" -- "${s[@]}" toobig --run true
    bad "binary Secret value in the environment" "binary-env" -- "${s[@]}" binenv --run true
    bad "--env-file in a missing directory" "no-such-dir" -- "${s[@]}" web --env-file "$WORK/no-such-dir/app.env" --run true
}

# valid: unusual but valid input must work, with exact bytes, and restore exactly (side by side).
cases_valid() {
    good "~1 MiB of environment (8 values of 120 KiB) reaches the process exactly" bigenv 27401 --
    good "non-ASCII values, file and annotations survive exactly" unicode 27402 --
    good "binary Secret files reach \$SWAPDEV_ROOT exactly" binsecret 27403 --
    good "a Deployment without ports swaps, with a warning" worker - "declares no ports" "--expose" --
    goods_finish
}
