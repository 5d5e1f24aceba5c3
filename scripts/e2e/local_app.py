# The local process the e2e suite swaps in:
#   swapdev swap web:app --run python3 local_app.py PORT REPORT [SIDECAR_PORT]
# Runs on the machine running the suite. Writes REPORT (JSON): its environment, every file
# below $SWAPDEV_ROOT as it received them, and what the pod's sidecar answers on
# 127.0.0.1:SIDECAR_PORT (default 9471; no proxy: NO_PROXY has 127.0.0.1); then answers every GET with "local" on
# 127.0.0.1:PORT, and exits 7 after answering /quit (the suite checks swapdev exits 7 too).
import http.server
import json
import os
import sys
import threading
import urllib.request

port, report = int(sys.argv[1]), sys.argv[2]
sidecar_port = int(sys.argv[3]) if len(sys.argv) > 3 else 9471
root = os.environ.get("SWAPDEV_ROOT", "")
files = {}
if root:
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            try:
                with open(path) as handle:
                    files[os.path.relpath(path, root)] = handle.read()
            except OSError as error:
                files[os.path.relpath(path, root)] = f"ERR {error}"
# The sidecar of the pod, through swapdev's outbound forward on 127.0.0.1:SIDECAR_PORT.
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sidecar_port}/app.conf", timeout=5) as response:
        sidecar = response.read().decode()
except Exception as error:  # noqa: BLE001 - any failure is the answer
    sidecar = f"ERR {error}"
with open(report + ".tmp", "w") as handle:
    json.dump({"env": dict(os.environ), "files": files, "sidecar": sidecar}, handle)
os.replace(report + ".tmp", report)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"local"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/quit":
            threading.Thread(target=lambda: os._exit(7)).start()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
