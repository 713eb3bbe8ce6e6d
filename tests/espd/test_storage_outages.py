"""espd rides out its storage going away and coming back, without a restart of its own.

PostgreSQL: requests made right after a crash-restart succeed; while the database is
down readiness says so and requests get a clear 503; once it is back everything works.
The object store: while it is unreachable, requests that need it get a 503 problem and
nothing is queued; once it is back the same request succeeds.

Each test runs what it breaks itself: a PostgreSQL of its own, and a signature gate
of its own in front of the test run's s3rver (ctest starts s3rver)."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

from cluster import score
from espd import Espd, free_port, s3_bucket_args, wait_for_port
from httpjson import bearer, call

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
HERE = os.path.dirname(os.path.abspath(__file__))
POSTGRES = os.path.join(HERE, "..", "support", "postgres.sh")
GATE = os.path.join(HERE, "..", "s3", "sigv4_gate.py")


class Database:
    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="esp-outage-pg-")
        self("start")
        with open(os.path.join(self.folder, "url")) as f:
            self.url = f.read().strip()

    def __call__(self, action):
        subprocess.run([POSTGRES, action, self.folder], check=True, timeout=120)

    def remove(self):
        self("stop")
        subprocess.run(["rm", "-rf", self.folder], check=True)


class ObjectStore:
    """The test run's s3rver, reached through a gate this test can take away."""

    def __init__(self):
        with open(os.path.join(os.path.dirname(os.environ["ESP_TEST_S3_ENDPOINT_FILE"]), "direct-endpoint")) as f:
            self.s3rver_port = f.read().strip().rsplit(":", 1)[1]
        self.port = free_port()
        self.process = None
        self.start()

    def start(self):
        self.process = subprocess.Popen([sys.executable, GATE, str(self.port), self.s3rver_port, "S3RVER:S3RVER"])
        wait_for_port(self.port, self.process)

    def stop(self):
        self.process.kill()
        self.process.wait()

    def args(self):
        return s3_bucket_args(f"http://127.0.0.1:{self.port}")


class OutageTest(unittest.TestCase):
    """espd (one worker) on a database and object store the test controls."""
    experiment = "outage"

    def start_espd(self, storage_args):
        self.espd = Espd("--workers", "1", defer_start=True, storage_args=storage_args)
        self.espd.__enter__()
        self.addCleanup(self.espd.__exit__, None, None, None)
        self.assertEqual(self.espd.admin("users", "add", "db@example.com", password="password-123\n").returncode, 0)
        self.espd.start()
        token = call(self.espd.url("/auth"), "POST", json_body={"email": "db@example.com", "password": "password-123"})
        self.headers = bearer(token.json()["token"])

    def post(self, path, body=None):
        return call(self.espd.url(path), "POST", json_body=body, headers=self.headers)

    def assert_readiness(self, status, timeout_s=15):
        """/readyz answers from a state refreshed every second: wait for it to turn."""
        deadline = time.monotonic() + timeout_s
        while (ready := call(self.espd.url("/readyz"))).status != status and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(ready.status, status, ready.body)
        return ready

    def generation(self, body=None):
        """Asks for the next generation and long-polls it; returns the finished operation."""
        answer = self.post(f"/v1/experiments/{self.experiment}/generations", body)
        self.assertEqual(answer.status, 202, answer.body)
        operation = call(self.espd.url(f"/v1/operations/{answer.json()['id']}?wait=30"), headers=self.headers,
                         timeout=60).json()
        self.assertEqual(operation["status"], "succeeded", operation)
        return operation["result"]["checkpoint_id"]

    def evaluated(self, checkpoint_id):
        population = call(self.espd.url(f"/v1/experiments/{self.experiment}/checkpoints/{checkpoint_id}"),
                          headers=self.headers)
        self.assertEqual(population.status, 200, population.body)
        return {"checkpoint_id": checkpoint_id,
                "population": [{"id": c["id"], "metrics": {"score": score(c["id"])}}
                               for c in population.json()["population"]]}

    def checkpoint_ids(self):
        listed = call(self.espd.url(f"/v1/experiments/{self.experiment}/checkpoints"), headers=self.headers).json()
        return sorted(c["id"] for c in listed["checkpoints"])


class DatabaseRestartTest(OutageTest):
    def setUp(self):
        self.database = Database()
        self.addCleanup(self.database.remove)
        self.start_espd(["--database-url", self.database.url])

    def test_requests_succeed_across_a_database_restart(self):
        self.assertEqual(self.post("/v1/experiments", {"id": self.experiment, "params": FIXTURE}).status, 201)
        seed = self.generation()

        self.database("restart")  # every pooled connection and the LISTEN session are now dead
        second = self.generation(self.evaluated(seed))
        self.assertTrue(second.startswith(f"{self.experiment}/2/"), second)
        self.assert_readiness(200)
        # The notification listener reconnected too: it announces itself on each connection.
        self.assertIsNotNone(self.espd.wait_for_log(lambda l: l.get("msg") == "job_notifications_listening"
                                                    and l.get("connection", 0) >= 2, 30))

        self.database("stop")
        ready = self.assert_readiness(503)
        self.assertIn("database", ready.json()["checks"])
        self.assertNotEqual(ready.json()["checks"]["database"], "ok")
        refused = self.post("/v1/experiments", {"id": "while-down", "params": FIXTURE})
        self.assertEqual(refused.status, 503, refused.body)
        self.assertEqual(refused.header("Content-Type"), "application/problem+json")

        self.database("restart")
        self.assert_readiness(200)
        third = self.generation(self.evaluated(second))
        self.assertTrue(third.startswith(f"{self.experiment}/3/"), third)
        # Nothing made while the database was down exists; what was made before still does.
        self.assertEqual(call(self.espd.url("/v1/experiments/while-down"), headers=self.headers).status, 404)
        self.assertEqual(self.checkpoint_ids(), sorted([seed, second, third]))
        self.assertIsNone(self.espd.process.poll())


class ObjectStoreOutageTest(OutageTest):
    def setUp(self):
        self.assertTrue(os.environ.get("ESP_TEST_S3_ENDPOINT_FILE"), "run through ctest, which starts s3rver")
        self.database = Database()
        self.addCleanup(self.database.remove)
        self.store = ObjectStore()
        self.addCleanup(self.store.stop)
        self.start_espd(["--database-url", self.database.url] + self.store.args())

    def test_requests_fail_clearly_while_the_object_store_is_away_and_succeed_after(self):
        self.assertEqual(self.post("/v1/experiments", {"id": self.experiment, "params": FIXTURE}).status, 201)
        seed = self.generation()
        request = self.evaluated(seed)

        self.store.stop()
        refused = self.post(f"/v1/experiments/{self.experiment}/generations", request)
        self.assertEqual(refused.status, 503, refused.body)
        self.assertEqual(refused.header("Content-Type"), "application/problem+json")
        unreadable = call(self.espd.url(f"/v1/experiments/{self.experiment}/checkpoints/{seed}"), headers=self.headers)
        self.assertEqual(unreadable.status, 503, unreadable.body)
        self.assertEqual(self.checkpoint_ids(), [seed])  # nothing half-made

        self.store.start()
        second = self.generation(request)
        self.assertTrue(second.startswith(f"{self.experiment}/2/"), second)
        self.assertEqual(self.checkpoint_ids(), sorted([seed, second]))
        self.assertIsNone(self.espd.process.poll())


if __name__ == "__main__":
    unittest.main()
