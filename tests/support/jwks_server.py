"""A JWKS endpoint for key-rotation tests: serves FOLDER/jwks.json, with the
Cache-Control header written in FOLDER/cache-control when that file exists. Prints
"port N" once it listens on 127.0.0.1."""
import http.server
import os
import sys

FOLDER = sys.argv[1]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with open(os.path.join(FOLDER, "jwks.json"), "rb") as f:
                body = f.read()
        except FileNotFoundError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        cache_control = os.path.join(FOLDER, "cache-control")
        if os.path.exists(cache_control):
            with open(cache_control) as f:
                self.send_header("Cache-Control", f.read().strip())
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"port {server.server_address[1]}", flush=True)
server.serve_forever()
