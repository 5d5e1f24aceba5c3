#!/usr/bin/env python3
"""Load generator of scripts/load.sh and scripts/bench-swap.sh: checksummed echoes through a
Service to local_server.py's echo port (see its docstring for the protocol).

    echo_load.py concurrent HOST PORT --connections 1000 --size 65536
        Opens every connection first, waits until all have connected (or failed), then sends
        on all of them at once — so all N are open through the tunnel at the same moment.
    echo_load.py soak HOST PORT --seconds 60 --wave 50 --size 4096 [--max-connections N]
        Waves of WAVE concurrent short connections until SECONDS have passed (or N were made).

Every connection sends its own random payload (so bytes crossing between channels are caught
too, not only bit errors) and checks that the echo has the same length and sha256.
Prints one JSON object: connections, ok, errors, corrupt, elapsed_s, peak_open, error_samples.
Exit status 0 when every connection succeeded, 1 otherwise.
"""
import argparse
import asyncio
import hashlib
import json
import os
import struct
import sys
import time


class Tally:
    def __init__(self):
        self.connections = 0
        self.ok = 0
        self.errors = 0
        self.corrupt = 0
        self.open = 0
        self.peak_open = 0
        self.samples = {}

    def error(self, kind, detail):
        self.errors += 1
        key = f"{kind}: {detail}"
        self.samples[key] = self.samples.get(key, 0) + 1

    def summary(self, elapsed):
        return {
            "connections": self.connections, "ok": self.ok, "errors": self.errors, "corrupt": self.corrupt,
            "elapsed_s": round(elapsed, 3), "peak_open": self.peak_open,
            # The most frequent distinct errors, with their counts.
            "error_samples": sorted(self.samples.items(), key=lambda item: -item[1])[:5],
        }


async def connect(host, port, tally, timeout):
    tally.connections += 1
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except Exception as error:  # noqa: BLE001 - every failure is counted, none may stop the run
        tally.error("connect", type(error).__name__ + " " + str(error)[:80])
        return None
    tally.open += 1
    tally.peak_open = max(tally.peak_open, tally.open)
    return reader, writer


async def exchange(connection, size, tally, timeout):
    """Sends SIZE random bytes on an open connection and checks the echo."""
    reader, writer = connection
    payload = os.urandom(size)
    expected = hashlib.sha256(payload).digest()

    async def send():
        writer.write(struct.pack(">Q", size))
        # Slices of 64 KiB so that reading the echo interleaves with sending it.
        for offset in range(0, size, 65536):
            writer.write(payload[offset:offset + 65536])
            await writer.drain()

    async def receive():
        digest = hashlib.sha256()
        received = 0
        while received < size:
            chunk = await reader.read(min(65536, size - received))
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
        return received, digest.digest()

    try:
        _, (received, digest) = await asyncio.wait_for(asyncio.gather(send(), receive()), timeout)
        if received != size:
            tally.error("short echo", f"{received} of {size} bytes then EOF")
        elif digest != expected:
            tally.corrupt += 1
            tally.error("corrupt", "sha256 of the echo differs")
        else:
            tally.ok += 1
    except asyncio.TimeoutError:
        tally.error("timeout", f"no full echo within {timeout:g}s")
    except Exception as error:  # noqa: BLE001
        tally.error("exchange", type(error).__name__ + " " + str(error)[:80])
    finally:
        tally.open -= 1
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:  # noqa: BLE001 - a reset on close is not a failed echo
            pass


async def concurrent(args):
    tally = Tally()
    connections = await asyncio.gather(*(connect(args.host, args.port, tally, args.timeout) for _ in range(args.connections)))
    await asyncio.gather(*(exchange(c, args.size, tally, args.timeout) for c in connections if c))
    return tally


async def soak(args):
    tally = Tally()
    deadline = time.monotonic() + args.seconds

    async def one():
        connection = await connect(args.host, args.port, tally, args.timeout)
        if connection:
            await exchange(connection, args.size, tally, args.timeout)

    while time.monotonic() < deadline and (not args.max_connections or tally.connections < args.max_connections):
        await asyncio.gather(*(one() for _ in range(args.wave)))
    return tally


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["concurrent", "soak"])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--size", type=int, default=65536)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--wave", type=int, default=50)
    parser.add_argument("--max-connections", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60, help="per connect and per echo, seconds")
    args = parser.parse_args()
    start = time.monotonic()
    tally = asyncio.run(concurrent(args) if args.mode == "concurrent" else soak(args))
    print(json.dumps(tally.summary(time.monotonic() - start)), flush=True)
    sys.exit(0 if tally.errors == 0 and tally.ok == tally.connections else 1)


if __name__ == "__main__":
    main()
