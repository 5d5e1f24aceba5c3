#!/usr/bin/env python3
"""Writes the bad-input suite's cluster fixtures and the bytes its local process must receive.

    fixtures.py WORK

WORK/fixtures.json   a v1 List for `kubectl create -f` (JSON: the sandbox speaks JSON only)
WORK/expected/NAME/  per success case: env/VAR holds the exact bytes of variable VAR, and
                     root/PATH the exact bytes of a file the swap copies to $SWAPDEV_ROOT/PATH

Deterministic (seeded), so a failure reproduces. Only the standard library.
"""
import base64
import json
import os
import random
import sys

WORK = sys.argv[1]
ORIGINAL = os.path.join(WORK, "original")  # what the original containers serve
rng = random.Random(20261122)

# Linux refuses to exec with any one environment string over MAX_ARG_STRLEN (32 pages = 128 KiB,
# "NAME=value" and its NUL included), whatever the total. So "very large" valid values stay just
# under it, and together they make a ~1 MiB environment (the total limit is ARG_MAX, 2 MiB).
LARGE_VALUE = 120 * 1024
LARGE_COUNT = 8
TOO_LARGE_VALUE = 200 * 1024


def text_value(size):
    """Printable text with the characters a dump parser trips on: newlines, '=', quotes. No '$':
    the kubelet expands `$(VAR)` and `$$` in env values, so the container would not see it as written."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 =\"'\\\n\t"
    return "".join(rng.choice(alphabet) for _ in range(size))


def b64(data):
    return base64.b64encode(data).decode()


def server(port=8080):
    """The original app: answers GET /who with "original" (a python http.server on ORIGINAL)."""
    return ["python3", "-m", "http.server", str(port), "--directory", ORIGINAL]


def deployment(name, containers, volumes=None, annotations=None):
    spec = {"containers": containers, "terminationGracePeriodSeconds": 2}
    if volumes:
        spec["volumes"] = volumes
    metadata = {"name": name, "labels": {"app": name}}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec}},
    }


def app_container(env=None, mounts=None, name="app"):
    # No readiness probe: the pod is Ready once python runs, so a restore does not wait for probe
    # periods (what is checked here is the bytes and the exact restore, not readiness).
    container = {"name": name, "image": "example/app:1", "command": server(),
                 "ports": [{"name": "http", "containerPort": 8080}]}
    if env:
        container["env"] = env
    if mounts:
        container["volumeMounts"] = mounts
    return container


def sleeper(name, env=None):
    container = {"name": name, "image": "example/worker:1", "command": ["sleep", "100000"]}
    if env:
        container["env"] = env
    return container


def service(name):
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}


def configmap(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name, data):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {key: b64(value) for key, value in data.items()}}


def expect(case, kind, name, data):
    path = os.path.join(WORK, "expected", case, kind, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


objects = []

# web: the target of most bad input (one container `app`, port `http`).
objects += [configmap("web-config", {"GREETING": "hello"}),
            deployment("web", [app_container(env=[{"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "web-config", "key": "GREETING"}}}])]),
            service("web")]

# pair: two containers and no default-container annotation.
objects.append(deployment("pair", [sleeper("app"), sleeper("sidecar")]))

# worker: a queue consumer that declares no ports (outbound traffic and env only).
objects.append(deployment("worker", [sleeper("worker", env=[{"name": "QUEUE", "value": "jobs"}])]))
expect("worker", "env", "QUEUE", "jobs")

# bigenv: eight values just under Linux's per-string limit, ~1 MiB of environment in all.
large = {f"LARGE_{i}": text_value(LARGE_VALUE) for i in range(1, LARGE_COUNT + 1)}
objects.append(configmap("big", {f"v{i}": large[f"LARGE_{i}"] for i in range(2, LARGE_COUNT + 1)}))
big_env = [{"name": "LARGE_1", "value": large["LARGE_1"]}]
big_env += [{"name": f"LARGE_{i}", "valueFrom": {"configMapKeyRef": {"name": "big", "key": f"v{i}"}}} for i in range(2, LARGE_COUNT + 1)]
objects += [deployment("bigenv", [app_container(env=big_env)]), service("bigenv")]
for name, value in large.items():
    expect("bigenv", "env", name, value)

# toobig: one 200 KiB value, over MAX_ARG_STRLEN: no process can be started with it.
objects.append(deployment("toobig", [sleeper("app", env=[{"name": "HUGE", "value": "x" * TOO_LARGE_VALUE}])]))

# unicode: non-ASCII values inline, from a ConfigMap key and in a ConfigMap volume's file, and
# non-ASCII annotations on the Deployment that the restore must keep byte for byte.
# (Names stay ASCII: the API server rejects non-ASCII in env names, ConfigMap keys and labels.)
unicode_inline = "héllo wörld ✓ 日本語 🚀 e\u0301 עברית \u200b end"
unicode_from_cm = "Grüße aus Köln — ½ ∑ ∞ 👩‍💻"
unicode_file = "ünïcödé file ✓\n第二行\n"
objects.append(configmap("unicode-config", {"greeting": unicode_from_cm, "message.txt": unicode_file}))
objects += [deployment("unicode",
                       [app_container(env=[{"name": "UNICODE_INLINE", "value": unicode_inline},
                                           {"name": "UNICODE_FROM_CONFIGMAP", "valueFrom": {"configMapKeyRef": {"name": "unicode-config", "key": "greeting"}}}],
                                      mounts=[{"name": "texts", "mountPath": "/etc/unicode"}])],
                       volumes=[{"name": "texts", "configMap": {"name": "unicode-config"}}],
                       annotations={"description": "Ünïcödé ✓ 日本語 🚀", "owner": "zoë@example.com"}),
            service("unicode")]
expect("unicode", "env", "UNICODE_INLINE", unicode_inline)
expect("unicode", "env", "UNICODE_FROM_CONFIGMAP", unicode_from_cm)
expect("unicode", "root", "etc/unicode/message.txt", unicode_file)

# binsecret: a Secret with binary values (NUL, 0xff, every byte value) mounted as a volume, and
# a text key of the same Secret in the environment.
random_bytes = bytes(rng.randrange(256) for _ in range(4096))
every_byte = bytes(range(256))
objects.append(secret("blob", {"random.bin": random_bytes, "every-byte.bin": every_byte, "text": b"plain text secret"}))
objects += [deployment("binsecret",
                       [app_container(env=[{"name": "SECRET_TEXT", "valueFrom": {"secretKeyRef": {"name": "blob", "key": "text"}}}],
                                      mounts=[{"name": "blob", "mountPath": "/etc/blob", "readOnly": True}])],
                       volumes=[{"name": "blob", "secret": {"secretName": "blob"}}]),
            service("binsecret")]
expect("binsecret", "env", "SECRET_TEXT", "plain text secret")
expect("binsecret", "root", "etc/blob/random.bin", random_bytes)
expect("binsecret", "root", "etc/blob/every-byte.bin", every_byte)

# binenv: a binary Secret value in the environment, which no process environment can hold.
objects.append(secret("binary-env", {"key": b"\x00\xff\xfe binary"}))
objects.append(deployment("binenv", [sleeper("app", env=[{"name": "BINARY", "valueFrom": {"secretKeyRef": {"name": "binary-env", "key": "key"}}}])]))

os.makedirs(ORIGINAL, exist_ok=True)
with open(os.path.join(ORIGINAL, "who"), "w") as f:
    f.write("original")
with open(os.path.join(WORK, "fixtures.json"), "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "items": objects}, f, ensure_ascii=False)
