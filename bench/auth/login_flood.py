"""A real login while espd is flooded: 3000 bad logins from 100 loopback addresses,
each client gone as soon as it has sent, then alice signs in from another address.
Reports the real login's time after the flood against the same login on the idle
server, measured in the same run (median of rounds).
Usage: /usr/bin/python3 bench/auth/login_flood.py [rounds]   (needs build/release/espd)"""
import concurrent.futures
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ESPD = os.environ.get("ESPD_BINARY") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                    "build", "release", "espd")
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login(port, source, email, password, abandon=False):
    body = json.dumps({"email": email, "password": password}).encode()
    request = (b"POST /auth HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\nConnection: close\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    with socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0)) as sock:
        sock.sendall(request)
        if abandon:
            return None
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def timed_login(port, source):
    started = time.monotonic()
    while (status := login(port, source, "alice@example.com", "bench-password")) == 503:
        time.sleep(1)  # Retry-After: 1
    assert status == 200, status
    return time.monotonic() - started


def main():
    with tempfile.TemporaryDirectory() as data:
        subprocess.run([ESPD, "--data-dir", data, "users", "add", "alice@example.com"], input="bench-password\n",
                       text=True, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([ESPD, "--data-dir", data, "--http-addr", f"127.0.0.1:{port}",
                                   "--grpc-addr", "127.0.0.1:0", "--log-level", "warn"], stdout=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
            idle, flooded = [], []
            for round_ in range(ROUNDS):
                idle.append(timed_login(port, f"127.0.200.{round_ + 1}"))
                sources = [f"127.{round_ + 1}.{i // 250}.{i % 250 + 1}" for i in range(100)]
                with concurrent.futures.ThreadPoolExecutor(32) as pool:
                    list(pool.map(lambda i: login(port, sources[i % 100], f"x{i}@example.com", "wrong", True),
                                  range(3000)))
                flooded.append(timed_login(port, f"127.0.201.{round_ + 1}"))
            idle_ms, flooded_ms = statistics.median(idle) * 1000, statistics.median(flooded) * 1000
            print(f"real login, idle espd:                 {idle_ms:8.1f} ms (median of {ROUNDS})")
            print(f"real login after 3000 abandoned logins: {flooded_ms:8.1f} ms (median of {ROUNDS}; "
                  f"worst {max(flooded) * 1000:.1f} ms)")
            print(f"ratio flooded / idle: {flooded_ms / idle_ms:.1f}")
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
