#!/usr/bin/env python3
"""The "local process" of scripts/load.sh and scripts/bench-swap.sh: what `swapdev swap --run`
starts on the developer's machine.

    local_server.py HTTP_PORT ECHO_PORT

- HTTP_PORT (127.0.0.1): answers every request with `local` — how the scripts see that the
  Service has reached this process rather than the original container (which says `original`).
- ECHO_PORT (127.0.0.1): the checksummed echo of echo_load.py: the client sends an 8-byte
  big-endian length N and N bytes; this server sends those N bytes back as they arrive and
  closes. The client compares the sha256 of what it sent with what came back, so corruption
  in either direction is caught. A length prefix instead of a half-close keeps the check
  independent of how each hop (Service proxy, sshd, tunnel) handles half-closed connections.

asyncio, one process: a thousand idle connections cost little and nothing here limits them
(listen backlog 4096; the kernel caps it at net.core.somaxconn).
"""
import asyncio
import struct
import sys

BACKLOG = 4096
CHUNK = 64 * 1024


async def http_answer(reader, writer):
    try:
        # Read the request head; the body (none expected) is ignored.
        await reader.readuntil(b"\r\n\r\n")
        body = b"local\n"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def echo(reader, writer):
    try:
        (length,) = struct.unpack(">Q", await reader.readexactly(8))
        remaining = length
        while remaining:
            chunk = await reader.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            writer.write(chunk)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(http_port, echo_port):
    http = await asyncio.start_server(http_answer, "127.0.0.1", http_port, backlog=BACKLOG)
    echoer = await asyncio.start_server(echo, "127.0.0.1", echo_port, backlog=BACKLOG)
    print(f"local: http on 127.0.0.1:{http_port}, echo on 127.0.0.1:{echo_port}", flush=True)
    async with http, echoer:
        await asyncio.gather(http.serve_forever(), echoer.serve_forever())


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
    except KeyboardInterrupt:
        pass
