"""Connections as a hostile client spends them, against the real espd: past
--max-connections new clients wait in the backlog until one closes, and out of file
descriptors the accept loop backs off instead of spinning, then recovers."""
import os
import resource
import socket
import time
import unittest

from espd import Espd
from httpjson import call

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: espd\r\n\r\n"
# UBSan's type checks open a pipe to probe memory: out of descriptors, the sanitizer build
# reports its own failure. The release build is the one whose behaviour matters here.
RELEASE_ESPD = os.environ.get("ESPD_RELEASE_BINARY")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime in clock ticks


class ConnectionLimitsTest(unittest.TestCase):
    def test_past_the_cap_a_client_waits_until_a_connection_closes(self):
        with Espd("--max-connections", "4", "--io-threads", "1") as espd:
            held = [espd.connect() for _ in range(4)]
            for sock in held:  # each is a session of espd's now
                sock.sendall(HEALTH)
                self.assertIn(b"200 OK", sock.recv(4096))
            waiting = espd.connect()  # the kernel's backlog takes it
            waiting.sendall(HEALTH)
            waiting.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                waiting.recv(4096)
            held.pop().close()
            waiting.settimeout(10)
            self.assertIn(b"200 OK", waiting.recv(4096))
            for sock in held + [waiting]:
                sock.close()

    @unittest.skipUnless(RELEASE_ESPD, "needs the release espd (make test builds it)")
    def test_out_of_descriptors_the_accept_loop_backs_off_and_recovers(self):
        limit = 96
        def few_descriptors():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        with Espd("--io-threads", "1", "--workers", "1", binary=RELEASE_ESPD,
                  preexec_fn=few_descriptors) as espd:
            held = []
            for _ in range(limit + 20):
                held.append(espd.connect())
            self.assertIsNotNone(espd.wait_for_log(lambda l: l.get("msg") == "accept_backing_off", 10))
            before = cpu_seconds(espd.process.pid)
            time.sleep(1.0)
            spent = cpu_seconds(espd.process.pid) - before
            self.assertLess(spent, 0.5, "espd spins on EMFILE")
            for sock in held:
                sock.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                answer = call(espd.url("/healthz"), timeout=5)
                if answer.status == 200:
                    break
            self.assertEqual(answer.status, 200)


if __name__ == "__main__":
    unittest.main()
