#!/usr/bin/env python3
"""Waits for the first request through a Service that the local process answers, and says when
each of swapdev's phases ended — the `swap_ready_s` measurement of scripts/bench-swap.sh, and
the "swap is up" wait of scripts/load.sh.

    first_local_answer.py --url http://CLUSTER_IP:80/ --since NANOSECONDS --log SWAPDEV_STDERR_FILE \
        [--pid SWAPDEV_PID] [--timeout 120] [--linger SECONDS]

--since is the wall-clock time (`date +%s%N`) taken just before swapdev was started; the
Service is polled every 20 ms (1 s timeout per request) until a response body is `local`.
The log file (swapdev's stderr, which the caller redirects there) is read as it grows so each
phase line gets the time it appeared. Prints one JSON object:
    {"ready_s": 3.21, "phases": [[0.41, "✓ guards passed (0.02s)"], ...]}
Exit status 1 (with "ready_s": null) when the timeout passes or swapdev exits first.
"""
import argparse
import json
import os
import socket
import sys
import time
import urllib.parse

POLL_INTERVAL_S = 0.02


def answer(host, port, path):
    """The body of one GET, or None."""
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.settimeout(1)
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                data += chunk
        return data.partition(b"\r\n\r\n")[2]
    except OSError:
        return None


def alive(pid):
    """False once the process has exited (a zombie its parent has not reaped counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--since", type=int, required=True, help="wall-clock ns when swapdev was started")
    parser.add_argument("--log", required=True)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--linger", type=float, default=0, help="seconds to keep timing log lines after ready")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    host, port, path = url.hostname, url.port or 80, url.path or "/"

    def elapsed():
        return (time.time_ns() - args.since) / 1e9

    phases = []
    pending = b""
    offset = 0

    def read_log():
        nonlocal pending, offset
        try:
            with open(args.log, "rb") as log:
                log.seek(offset)
                data = log.read()
        except FileNotFoundError:
            return
        offset += len(data)
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            phases.append([round(elapsed(), 3), line.decode(errors="replace")])

    ready = None
    while elapsed() < args.timeout:
        read_log()
        if answer(host, port, path) == b"local\n":
            ready = elapsed()
            break
        if args.pid and not alive(args.pid):
            break
        time.sleep(POLL_INTERVAL_S)
    # Phases that end after the first local answer (endpoints, scale to 0) get their times too.
    linger_until = elapsed() + args.linger
    while ready is not None and elapsed() < linger_until:
        read_log()
        time.sleep(POLL_INTERVAL_S)
    read_log()
    print(json.dumps({"ready_s": round(ready, 3) if ready is not None else None, "phases": phases},
                     ensure_ascii=False), flush=True)
    sys.exit(0 if ready is not None else 1)


if __name__ == "__main__":
    main()
