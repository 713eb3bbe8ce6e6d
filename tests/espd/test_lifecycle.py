"""Starting and stopping espd: configuration errors and graceful shutdown."""
import re
import socket
import subprocess
import sys
import time
import unittest

from espd import ESPD, Espd
from rawhttp import Connection, request


def in_flight(espd):
    with espd.connect() as sock:
        conn = Connection(sock)
        conn.send(request("GET", "/metrics"))
        text = conn.read_response().body.decode()
    return int(re.search(r"(?m)^esp_http_requests_in_flight (\d+)$", text).group(1))


def accepting(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def eventually(condition, timeout_s=10.0):
    """Polls until condition() holds or the deadline passes: a count of tries
    is over in milliseconds on a fast machine and too short on a loaded one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_finishes_in_flight_request_closes_idle_ones_and_exits_0(self):
        with Espd() as espd:
            idle = Connection(espd.connect())
            idle.send(request("GET", "/healthz"))
            self.assertEqual(idle.read_response().status, 200)

            busy = Connection(espd.connect())
            busy.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
            # The partial request counts as in flight once espd has its first
            # bytes; the metrics request itself is the other one.
            self.assertTrue(eventually(lambda: in_flight(espd) >= 2),
                            "espd never saw the partial request")

            espd.signal()
            self.assertTrue(eventually(lambda: not accepting(espd.http_port)),
                            "espd kept accepting connections after SIGTERM")
            self.assertTrue(idle.closed_by_peer(), "idle keep-alive connection left open")

            busy.send(b"67890")
            response = busy.read_response()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, b"Healthy")
            self.assertEqual(response.header("connection"), "close")
            self.assertEqual(espd.wait(timeout_s=10), 0)
            stopped = espd.wait_for_log(lambda l: l.get("msg") == "stopped")
            self.assertTrue(stopped["drained"])
            readiness_log = [l for l in espd.lines if l.get("msg") == "shutting_down"]
            self.assertEqual(readiness_log[0]["signal"], 15)

    def test_sigint_also_stops_with_exit_0(self):
        import signal
        with Espd() as espd:
            espd.signal(signal.SIGINT)
            self.assertEqual(espd.wait(), 0)

    def test_stuck_request_does_not_hold_shutdown_past_the_grace_period(self):
        with Espd("--shutdown-timeout-ms", "300", "--read-timeout-ms", "60000") as espd:
            stuck = Connection(espd.connect())
            stuck.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n1")
            self.assertTrue(eventually(lambda: in_flight(espd) >= 2))
            espd.signal()
            self.assertEqual(espd.wait(timeout_s=10), 0)
            stopped = espd.wait_for_log(lambda l: l.get("msg") == "stopped")
            self.assertFalse(stopped["drained"])


class ConfigurationTest(unittest.TestCase):
    def run_espd(self, *args, env=None):
        return subprocess.run([ESPD, *args], capture_output=True, text=True, timeout=30, env=env)

    def test_bad_values_exit_2_with_a_clear_message(self):
        result = self.run_espd("--http-addr", "localhost", "--workers", "many")
        self.assertEqual(result.returncode, 2)
        self.assertIn("invalid configuration", result.stderr)
        self.assertIn("--http-addr (ESP_HTTP_ADDR)", result.stderr)
        self.assertIn("--workers (ESP_WORKERS)", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_bad_environment_value_exits_2(self):
        result = self.run_espd(env={"LOG_LEVEL": "chatty", "PATH": "/usr/bin"})
        self.assertEqual(result.returncode, 2)
        self.assertIn("LOG_LEVEL", result.stderr)

    def test_help_lists_settings_and_exits_0(self):
        result = self.run_espd("--help")
        self.assertEqual(result.returncode, 0)
        for name in ("ESP_DATA_DIR", "ESP_HTTP_ADDR", "ESP_GRPC_ADDR", "JWT_SECRET", "LOG_LEVEL"):
            self.assertIn(name, result.stdout)

    def test_port_in_use_fails_to_start_with_a_clear_error(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            result = self.run_espd("--http-addr", f"127.0.0.1:{port}", "--grpc-addr", "127.0.0.1:0",
                                   "--data-dir", "/tmp/espd-port-test")
        self.assertEqual(result.returncode, 1)
        self.assertIn("startup_failed", result.stdout)
        self.assertIn(str(port), result.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + ["-v"])
