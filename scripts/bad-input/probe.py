#!/usr/bin/env python3
"""The local process of the bad-input suite's success cases (`swapdev swap ... --run probe.py`).

    probe.py OUT [PORT]

Records exactly what swapdev handed it — OUT/environ (every variable as raw bytes, `NAME=VALUE`
entries ended by NUL) and OUT/root (a copy of $SWAPDEV_ROOT) — then writes OUT/ready. With
PORT it serves GET /who ("local") on 127.0.0.1:PORT, so the suite can see cluster traffic
arrive; without it, it waits. SIGINT or SIGTERM (swapdev passes on the suite's Ctrl-C) ends
it with exit status 0.
"""
import http.server
import os
import shutil
import signal
import sys
import time

out = sys.argv[1]
port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "environ"), "wb") as f:
    for name, value in sorted(os.environb.items()):
        f.write(name + b"=" + value + b"\0")
root = os.environ.get("SWAPDEV_ROOT")
if root and os.path.isdir(root):
    shutil.copytree(root, os.path.join(out, "root"), symlinks=True)


class Who(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"local"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", port), Who) if port else None
open(os.path.join(out, "ready"), "w").close()
if server:
    server.serve_forever()
while True:
    time.sleep(3600)
