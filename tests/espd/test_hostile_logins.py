"""A flood of bad logins against the real espd: attempts are limited per address and
per account (429 with Retry-After), hashing work beyond the bounded queue is refused at
once (503 with Retry-After), work for clients that went away is dropped, and a real user
still signs in."""
import concurrent.futures
import json
import re
import socket
import time
import unittest

from espd import Espd
from httpjson import call

PASSWORD = "password-123"


def login_request(email, password):
    body = json.dumps({"email": email, "password": password}).encode()
    return (b"POST /auth HTTP/1.1\r\nHost: espd\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def login_from(espd, source, email, password, abandon=False, timeout_s=60):
    """POST /auth from the loopback address `source`; (status, headers) of the answer, or
    None when `abandon`: the client sends and closes without reading."""
    with socket.create_connection(("127.0.0.1", espd.http_port), timeout=timeout_s,
                                  source_address=(source, 0)) as sock:
        sock.sendall(login_request(email, password))
        if abandon:
            return None
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:])
    return int(head[0].split()[1]), headers


class LoginFloodTest(unittest.TestCase):
    def setUp(self):
        self.espd = Espd(defer_start=True)
        self.espd.__enter__()
        for email in ("alice@example.com", "bob@example.com"):
            added = self.espd.admin("users", "add", email, "--scopes", "esp:read", password=PASSWORD + "\n")
            self.assertEqual(added.returncode, 0, added.stderr)
        self.espd.start()

    def tearDown(self):
        self.espd.__exit__(None, None, None)

    def assert_healthy(self):
        self.assertEqual(call(self.espd.url("/healthz")).status, 200)

    def test_three_thousand_abandoned_bad_logins_do_not_keep_a_real_user_out(self):
        # 3000 bad logins from 100 addresses (30 each, within the per-address limit), each
        # client gone as soon as it has sent: their hashing must not be done.
        sources = [f"127.0.{i // 250 + 1}.{i % 250 + 1}" for i in range(100)]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            list(pool.map(lambda i: login_from(self.espd, sources[i % 100], f"nobody{i}@example.com", "wrong",
                                               abandon=True), range(3000)))
        started = time.monotonic()
        for attempt in range(10):  # 503 means "retry after 1 s"; a real client does so
            status, headers = login_from(self.espd, "127.0.9.9", "alice@example.com", PASSWORD)
            if status != 503:
                break
            self.assertEqual(headers["Retry-After"], "1")
            time.sleep(1)
        print(f"real login after the flood: {status} in {time.monotonic() - started:.2f} s "
              f"({attempt} retries)")
        self.assertEqual(status, 200)
        # Most of the flood was never hashed: its clients were gone by their turn.
        metrics = call(self.espd.url("/metrics")).body.decode()
        gone = re.search(r'esp_sign_ins_turned_away_total\{reason="client_gone"\} (\d+)', metrics)
        self.assertIsNotNone(gone, metrics)
        self.assertGreater(int(gone.group(1)), 2000)
        self.assert_healthy()

    def test_a_full_hashing_queue_answers_503_with_retry_after(self):
        sources = [f"127.0.2.{i + 1}" for i in range(200)]
        with concurrent.futures.ThreadPoolExecutor(200) as pool:
            answers = list(pool.map(lambda s: login_from(self.espd, s, f"nobody-{s}@example.com", "wrong"), sources))
        statuses = [status for status, _ in answers]
        self.assertIn(503, statuses)  # 2 hashing threads and 32 waiting places for 200 at once
        self.assertIn(401, statuses)
        self.assertTrue(all(h["Retry-After"] == "1" for s, h in answers if s == 503))
        self.assertEqual(set(statuses) - {401, 503}, set())
        self.assert_healthy()

    def test_attempts_are_limited_per_address(self):
        statuses = [login_from(self.espd, "127.0.3.1", f"nobody{i}@example.com", "wrong")[0] for i in range(70)]
        self.assertEqual(statuses[:60], [401] * 60)  # the burst
        # Even the right password is refused once the address has spent its attempts. The
        # bucket refills one a second, so a loaded machine (70 hashes taking over 10 s) may
        # have a few back by now: those are spent first, each answered as usual.
        for _ in range(40):
            status, headers = login_from(self.espd, "127.0.3.1", "alice@example.com", PASSWORD)
            if status != 200:
                break
        self.assertEqual(status, 429)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        # Another address is not affected.
        self.assertEqual(login_from(self.espd, "127.0.3.2", "alice@example.com", PASSWORD)[0], 200)

    def test_failed_attempts_are_limited_per_account_from_any_address(self):
        statuses = [login_from(self.espd, f"127.0.4.{i + 1}", "bob@example.com", "wrong")[0] for i in range(12)]
        self.assertEqual(statuses[:10], [401] * 10)
        self.assertEqual(statuses[10:], [429, 429])
        # Even the right password waits, from a fresh address; other accounts do not.
        status, headers = login_from(self.espd, "127.0.4.99", "bob@example.com", PASSWORD)
        self.assertEqual(status, 429)
        self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        self.assertEqual(login_from(self.espd, "127.0.4.99", "alice@example.com", PASSWORD)[0], 200)
        # The OAuth password grant counts against the same account.
        answer = call(self.espd.url("/oauth/token"), "POST",
                      form={"grant_type": "password", "username": "bob@example.com", "password": PASSWORD})
        self.assertEqual(answer.status, 429)


if __name__ == "__main__":
    unittest.main()
