#!/usr/bin/env python3
"""Load generator for scripts/bench-tunnel.sh. Prints one JSON object with:
rps (sequential small requests per second, each a new connection), p50_us (median request
latency), bulk_mbps (one 200 MB download), concurrent_mbps (50 concurrent 20 MB downloads)."""
import json
import socket
import statistics
import sys
import threading
import time


def request(port, path):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(b"GET %s HTTP/1.0\r\nHost: bench\r\n\r\n" % path.encode())
    buf = bytearray(1 << 20)
    total = 0
    while True:
        n = s.recv_into(buf)
        if n == 0:
            break
        total += n
    s.close()
    return total


def sequential(port, seconds):
    latencies = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        if request(port, "/small") <= 0:
            raise SystemExit("empty response from port %d" % port)
        latencies.append(time.perf_counter() - t0)
    return len(latencies) / seconds, statistics.median(latencies) * 1e6


def bulk(port, size):
    t0 = time.perf_counter()
    got = request(port, "/bulk/%d" % size)
    elapsed = time.perf_counter() - t0
    if got < size:
        raise SystemExit("bulk: got %d of %d bytes" % (got, size))
    return got / elapsed / 1e6


def concurrent(port, streams, size):
    results = [0] * streams

    def one(i):
        results[i] = request(port, "/bulk/%d" % size)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if min(results) < size:
        raise SystemExit("concurrent: a stream got %d of %d bytes" % (min(results), size))
    return sum(results) / elapsed / 1e6


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    request(port, "/small")  # warm up
    rps, p50 = sequential(port, seconds)
    out = {
        "rps": rps,
        "p50_us": p50,
        "bulk_mbps": bulk(port, 200 * 1000 * 1000),
        "concurrent_mbps": concurrent(port, 50, 20 * 1000 * 1000),
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
