"""espd's HTTP core, checked against the real binary on loopback."""
import re
import sys
import unittest

from espd import Espd, free_port
from rawhttp import Connection, request


def metric_value(text, name, **labels):
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name + ("{" + wanted + "}" if wanted else "")) + r" (\S+)"
    match = re.search("^" + pattern + "$", text, re.M)
    return float(match.group(1)) if match else 0.0


class HttpCoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.espd = Espd("--max-body", "1KiB", "--max-header", "4KiB", "--read-timeout-ms", "300")
        cls.espd.start()

    @classmethod
    def tearDownClass(cls):
        cls.espd.stop()
        cls.espd.data_dir.cleanup()

    def exchange(self, raw, head=False):
        with self.espd.connect() as sock:
            conn = Connection(sock)
            conn.send(raw)
            return conn.read_response(head=head)

    def assert_problem(self, response, status):
        self.assertEqual(response.status, status)
        self.assertEqual(response.header("content-type"), "application/problem+json")
        body = response.json()
        self.assertEqual(body["status"], status)
        self.assertEqual(body["type"], "about:blank")
        self.assertTrue(body["title"])
        self.assertEqual(body["request_id"], response.header("x-request-id"))
        return body

    def test_root_answers_healthy_to_get_and_post(self):
        for method in ("GET", "POST"):
            response = self.exchange(request(method, "/"))
            self.assertEqual(response.status, 200)
            self.assertEqual(response.body, b"Healthy")

    def test_liveness_and_readiness_bodies(self):
        live = self.exchange(request("GET", "/healthz"))
        self.assertEqual(live.status, 200)
        self.assertEqual(live.header("content-type"), "application/json")
        self.assertEqual(live.json()["status"], "ok")
        self.assertEqual(set(live.json()), {"status", "version", "commit", "uptime_seconds"})
        self.assertGreaterEqual(live.json()["uptime_seconds"], 0)
        self.assertTrue(live.json()["version"])
        ready = self.exchange(request("GET", "/readyz"))
        self.assertEqual(ready.status, 200)
        self.assertEqual(ready.json(), {"status": "ready", "checks": {"data_dir": "ok", "database": "ok", "workers": "ok"}})

    def test_head_returns_headers_without_body(self):
        response = self.exchange(request("HEAD", "/"), head=True)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.header("content-length"), "7")

    def test_unknown_path_is_404_problem(self):
        body = self.assert_problem(self.exchange(request("GET", "/no/such/thing")), 404)
        self.assertIn("/no/such/thing", body["detail"])

    def test_wrong_method_is_405_problem_with_allow(self):
        response = self.exchange(request("DELETE", "/healthz"))
        self.assert_problem(response, 405)
        self.assertEqual(response.header("allow"), "GET, HEAD")

    def test_oversized_body_is_413_problem(self):
        # The limit is checked from Content-Length before the body is read.
        raw = request("POST", "/", body=b"x" * 2048)
        response = self.exchange(raw)
        body = self.assert_problem(response, 413)
        self.assertIn("1024 bytes", body["detail"])
        self.assertEqual(response.header("connection"), "close")

    def test_body_within_limit_is_accepted(self):
        self.assertEqual(self.exchange(request("POST", "/", body=b"x" * 1000)).status, 200)

    def test_oversized_headers_are_431_problem(self):
        raw = request("GET", "/healthz", headers={"X-Padding": "p" * 5000})
        self.assert_problem(self.exchange(raw), 431)

    def test_garbage_bytes_are_400_problem(self):
        self.assert_problem(self.exchange(b"\x00\x01GARBAGE \xff\r\n\r\n"), 400)
        self.assert_problem(self.exchange(b"GET /healthz HTTP/9.9\r\n\r\n"), 400)
        self.assert_problem(
            self.exchange(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"), 400)

    def test_incomplete_request_times_out_with_408(self):
        with self.espd.connect() as sock:
            conn = Connection(sock)
            conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
            self.assert_problem(conn.read_response(), 408)

    def test_request_id_is_echoed_or_generated(self):
        echoed = self.exchange(request("GET", "/healthz", headers={"X-Request-Id": "trace-42.a_b"}))
        self.assertEqual(echoed.header("x-request-id"), "trace-42.a_b")
        generated = self.exchange(request("GET", "/healthz"))
        self.assertRegex(generated.header("x-request-id"), r"^[0-9a-f]{32}$")
        unsafe = self.exchange(request("GET", "/healthz", headers={"X-Request-Id": "bad id\"{}"}))
        self.assertRegex(unsafe.header("x-request-id"), r"^[0-9a-f]{32}$")

    def test_keep_alive_and_pipelined_requests_are_answered_in_order(self):
        with self.espd.connect() as sock:
            conn = Connection(sock)
            conn.send(request("GET", "/healthz", {"X-Request-Id": "first"}) +
                      request("GET", "/nothing", {"X-Request-Id": "second"}) +
                      request("POST", "/", {"X-Request-Id": "third"}, b"hi"))
            answers = [conn.read_response() for _ in range(3)]
            self.assertEqual([a.header("x-request-id") for a in answers], ["first", "second", "third"])
            self.assertEqual([a.status for a in answers], [200, 404, 200])
            conn.send(request("GET", "/"))  # still open after the pipeline
            self.assertEqual(conn.read_response().body, b"Healthy")

    def test_metrics_count_the_requests_just_made(self):
        before = self.exchange(request("GET", "/metrics")).body.decode()
        for _ in range(3):
            self.exchange(request("GET", "/healthz"))
        self.exchange(request("GET", "/missing"))
        response = self.exchange(request("GET", "/metrics"))
        self.assertTrue(response.header("content-type").startswith("text/plain; version=0.0.4"))
        after = response.body.decode()
        labels = dict(method="GET", route="/healthz", status="200")
        self.assertEqual(metric_value(after, "esp_http_requests_total", **labels) -
                         metric_value(before, "esp_http_requests_total", **labels), 3)
        missing = dict(method="GET", route="unmatched", status="404")
        self.assertGreaterEqual(metric_value(after, "esp_http_requests_total", **missing), 1)
        self.assertGreaterEqual(metric_value(after, "esp_http_request_duration_seconds_count",
                                             method="GET", route="/healthz"), 3)
        self.assertGreater(metric_value(after, "process_resident_memory_bytes"), 1_000_000)
        self.assertRegex(after, r'esp_build_info\{version="[^"]+",commit="[^"]+"\} 1')
        self.assertRegex(after, r"(?m)^esp_http_requests_in_flight \d+$")

    def test_each_request_logs_one_json_line_without_query_string(self):
        self.exchange(request("GET", "/healthz?access_token=s3cret", {"X-Request-Id": "log-check-1"}))
        line = self.espd.wait_for_log(lambda l: l.get("request_id") == "log-check-1")
        self.assertIsNotNone(line)
        self.assertEqual(line["msg"], "request")
        self.assertEqual((line["method"], line["path"], line["status"]), ("GET", "/healthz", 200))
        self.assertIn("duration_ms", line)
        self.assertTrue(line["ts"].endswith("Z"))
        self.assertFalse(any("s3cret" in str(l) for l in self.espd.lines))


class LogLevelTest(unittest.TestCase):
    def test_warn_level_suppresses_request_lines(self):
        with Espd(env={"LOG_LEVEL": "warn"}, ports=(free_port(), free_port())) as espd:
            with espd.connect() as sock:
                conn = Connection(sock)
                conn.send(request("GET", "/healthz"))
                conn.read_response()
            self.assertEqual(espd.stop(), 0)
            self.assertFalse([l for l in espd.lines if l.get("level") == "info"])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + ["-v"])
