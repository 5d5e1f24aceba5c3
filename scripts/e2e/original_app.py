# The app the e2e suite deploys (container `app` of Deployment `web`, as `python3 -c`): answers
# every GET on 8080 with "original <pod name>".
#
# On SIGTERM it keeps serving for a few seconds before it exits, as a well-behaved app (or a
# preStop sleep) does: on a real cluster the kubelet's SIGTERM and kube-proxy dropping the pod
# from the Service race, so an app that stopped at once would fail requests during the swap's
# scale-down for reasons that are not swapdev's.
import http.server
import os
import signal
import socket
import threading
import time

name = socket.gethostname()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"original {name}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def drain_then_exit(*_):
    threading.Thread(target=lambda: (time.sleep(3), os._exit(0)), daemon=True).start()


signal.signal(signal.SIGTERM, drain_then_exit)
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
