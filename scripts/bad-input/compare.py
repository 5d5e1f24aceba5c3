#!/usr/bin/env python3
"""Compares what the probe received with what the fixtures expect, byte for byte.

    compare.py EXPECTED OUT

EXPECTED/env/VAR and EXPECTED/root/PATH hold the exact bytes (see fixtures.py); OUT is the
probe's (see probe.py). Prints "ok: N values" or the first difference, and exits 1 on one.
"""
import os
import sys

expected, out = sys.argv[1], sys.argv[2]


def first_difference(want, got):
    for index, (a, b) in enumerate(zip(want, got)):
        if a != b:
            return f"byte {index}: want {a:#04x}, got {b:#04x}"
    return f"length: want {len(want)}, got {len(got)}"


environ = {}
with open(os.path.join(out, "environ"), "rb") as f:
    for entry in f.read().split(b"\0"):
        if entry:
            name, _, value = entry.partition(b"=")
            environ[name.decode()] = value

checked = 0
for kind in ("env", "root"):
    base = os.path.join(expected, kind)
    for directory, _, files in os.walk(base):
        for file in files:
            path = os.path.join(directory, file)
            relative = os.path.relpath(path, base)
            with open(path, "rb") as f:
                want = f.read()
            if kind == "env":
                got = environ.get(relative)
                what = f"variable {relative}"
            else:
                received = os.path.join(out, "root", relative)
                got = open(received, "rb").read() if os.path.isfile(received) else None
                what = f"$SWAPDEV_ROOT/{relative}"
            if got is None:
                print(f"{what} missing")
                sys.exit(1)
            if got != want:
                print(f"{what} differs at {first_difference(want, got)}")
                sys.exit(1)
            checked += 1
print(f"ok: {checked} values byte-exact")
