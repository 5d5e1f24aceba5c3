#!/usr/bin/env python3
"""`sandbox_pod_ready_s` of scripts/bench-swap.sh: how long the cluster takes to make a plain pod
Ready — the baseline swapdev's own readiness is compared with.

    pod_ready.py KUBECONFIG NAMESPACE POD_JSON_FILE

Creates the pod (its name is in the JSON), polls it every 20 ms until its Ready condition is
True, deletes it (grace period 0) and prints the seconds from just before the create request
to the first Ready poll. The API is spoken directly (not through kubectl) so that no client
start-up time is counted: first_local_answer.py's timing starts just before swapdev, which
pays its own start-up inside swap_ready_s, and the 20 ms polls match.

Reads the sandbox's kubeconfig format (server, certificate-authority-data, token); standard
library only, so it runs under /usr/bin/python3.
"""
import base64
import http.client
import json
import re
import ssl
import sys
import time
import urllib.parse

POLL_INTERVAL_S = 0.02
TIMEOUT_S = 120


def kubeconfig(path):
    text = open(path).read()

    def field(name):
        match = re.search(rf"^\s*{name}:\s*(\S+)\s*$", text, re.M)
        if not match:
            sys.exit(f"pod_ready: no {name} in {path} (only the sandbox's kubeconfig format is read)")
        return match.group(1)

    server = urllib.parse.urlsplit(field("server"))
    context = ssl.create_default_context(cadata=base64.b64decode(field("certificate-authority-data")).decode())
    return server.hostname, server.port, context, field("token")


def main():
    path, namespace, pod_file = sys.argv[1:4]
    host, port, context, token = kubeconfig(path)
    pod = json.load(open(pod_file))
    name = pod["metadata"]["name"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json"}
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    # One request first so that the TLS handshake is not part of the measurement.
    connection.request("GET", f"/api/v1/namespaces/{namespace}", headers=headers)
    connection.getresponse().read()

    def call(method, url, body=None):
        connection.request(method, url, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.status >= 300:
            sys.exit(f"pod_ready: {method} {url}: HTTP {response.status}: {data[:300]!r}")
        return json.loads(data)

    start = time.monotonic()
    call("POST", f"/api/v1/namespaces/{namespace}/pods", json.dumps(pod).encode())
    ready_s = None
    while time.monotonic() - start < TIMEOUT_S:
        status = call("GET", f"/api/v1/namespaces/{namespace}/pods/{name}").get("status", {})
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", [])):
            ready_s = time.monotonic() - start
            break
        time.sleep(POLL_INTERVAL_S)
    call("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}?gracePeriodSeconds=0")
    if ready_s is None:
        sys.exit(f"pod_ready: pod {name} not Ready within {TIMEOUT_S}s")
    print(f"{ready_s:.3f}")


if __name__ == "__main__":
    main()
