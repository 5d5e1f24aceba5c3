#!/usr/bin/env python3
"""Target server for scripts/bench-tunnel.sh: a tiny HTTP/1.0 server on 127.0.0.1.

GET /small         -> 200 with a 2-byte body, then close (one request per connection)
GET /bulk/<bytes>  -> 200 with <bytes> of body, then close
Prints "port <n>" on stdout once listening; runs until stdin closes.
"""
import socket
import sys
import threading

CHUNK = memoryview(b"x" * (1 << 20))


def handle(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(4096)
            if not data:
                return
            request += data
        path = request.split(b" ", 2)[1].decode()
        if path.startswith("/bulk/"):
            size = int(path[len("/bulk/"):])
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            while size > 0:
                n = min(size, len(CHUNK))
                conn.sendall(CHUNK[:n])
                size -= n
        else:
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except OSError:
        pass
    finally:
        conn.close()


def main():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1024)
    print("port %d" % server.getsockname()[1], flush=True)

    def accept_loop():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    sys.stdin.read()


if __name__ == "__main__":
    main()
