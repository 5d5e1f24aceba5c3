# The e2e suite's HTTP client. It runs INSIDE the cluster, in the client pod (`kubectl exec`),
# because a real cluster's ClusterIPs are not reachable from the machine running the suite.
# Python 3 standard library only, so any image with python3 will do.
#
#   python3 client.py get URL
#       one GET (timeout 3 s); prints the body, or "ERR <reason>" and exits 1.
#   python3 client.py load URL STOPFILE MAX_SECONDS [RATE] [TIMEOUT]
#       a steady RATE requests/s (default 20), each on a new connection with a TIMEOUT
#       (default 2 s), until STOPFILE exists or MAX_SECONDS passed. Prints one line per failure
#       ("FAIL at <HH:MM:SS.mmm> (t=<s>) <reason>"), then one JSON summary line:
#       {"total", "failed", "backends": {"original": n, "local": m}, "phases": ["original×40", "local×95", ...]}
#       A request fails when it raises, times out, or answers other than 200 "original …" / "local".
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def get(url, timeout):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        connection.request("GET", parts.path or "/", headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {body[:80]!r}")
        return body
    finally:
        connection.close()


def backend(body):
    """Which side answered: the original app says "original <pod>", the local process "local"."""
    if body.startswith("original"):
        return "original"
    if body.startswith("local"):
        return "local"
    return None


def load(url, stopfile, max_seconds, rate, timeout):
    results = []  # (start offset, backend or None, error or None), appended from threads
    lock = threading.Lock()
    start, wall_start = time.monotonic(), time.time()

    def one(offset):
        try:
            body = get(url, timeout)
            side = backend(body)
            error = None if side else f"unexpected body {body[:80]!r}"
        except Exception as e:  # noqa: BLE001 - every failure counts, whatever its kind
            side, error = None, f"{type(e).__name__}: {e}"
        with lock:
            results.append((offset, side, error))
            if error:
                wall = time.strftime("%H:%M:%S", time.localtime(wall_start + offset)) + f".{int((wall_start + offset) % 1 * 1000):03d}"
                print(f"FAIL at {wall} (t={offset:.2f}s) {error}", flush=True)

    threads = []
    sent = 0
    while True:
        elapsed = time.monotonic() - start
        if elapsed > max_seconds or os.path.exists(stopfile):
            break
        thread = threading.Thread(target=one, args=(elapsed,), daemon=True)
        thread.start()
        threads.append(thread)
        sent += 1
        # A fixed schedule, not "sleep after each": a slow request does not lower the rate.
        time.sleep(max(0.0, start + sent / rate - time.monotonic()))
    for thread in threads:
        thread.join(timeout + 1)
    try:
        os.remove(stopfile)
    except OSError:
        pass

    results.sort()
    backends = {}
    phases = []  # runs of the same answering side, in time order: original → local → original
    for _, side, _ in results:
        if side is None:
            continue
        backends[side] = backends.get(side, 0) + 1
        if phases and phases[-1][0] == side:
            phases[-1][1] += 1
        else:
            phases.append([side, 1])
    failed = sum(1 for r in results if r[2])
    print(json.dumps({"total": len(results), "failed": failed, "backends": backends,
                      "phases": [f"{side}×{count}" for side, count in phases],
                      "seconds": round(time.monotonic() - start, 1)}), flush=True)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "get" and len(sys.argv) == 3:
        try:
            print(get(sys.argv[2], 3))
        except Exception as e:  # noqa: BLE001
            print(f"ERR {type(e).__name__}: {e}")
            sys.exit(1)
    elif mode == "load" and len(sys.argv) >= 5:
        rate = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
        timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
        load(sys.argv[2], sys.argv[3], float(sys.argv[4]), rate, timeout)
    else:
        print(__doc__ if __doc__ else "usage: client.py get URL | load URL STOPFILE MAX_SECONDS [RATE] [TIMEOUT]", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
