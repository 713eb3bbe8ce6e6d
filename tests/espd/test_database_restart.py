"""espd on PostgreSQL rides out the database restarting under it: requests made right
after a crash-restart succeed, while the database is down readiness says so and
requests get a clear 503, and once it is back everything works again without
restarting espd. The test runs a PostgreSQL of its own, since it restarts it."""
import json
import os
import subprocess
import tempfile
import unittest

from cluster import score
from espd import Espd
from httpjson import bearer, call

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
POSTGRES = os.path.join(os.path.dirname(__file__), "..", "support", "postgres.sh")


class Database:
    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="esp-restart-pg-")
        self("start")
        with open(os.path.join(self.folder, "url")) as f:
            self.url = f.read().strip()

    def __call__(self, action):
        subprocess.run([POSTGRES, action, self.folder], check=True, timeout=120)

    def remove(self):
        self("stop")
        subprocess.run(["rm", "-rf", self.folder], check=True)


class DatabaseRestartTest(unittest.TestCase):
    def setUp(self):
        self.database = Database()
        self.addCleanup(self.database.remove)
        self.espd = Espd("--workers", "1", defer_start=True, storage_args=["--database-url", self.database.url])
        self.espd.__enter__()
        self.addCleanup(self.espd.__exit__, None, None, None)
        self.assertEqual(self.espd.admin("users", "add", "db@example.com", password="password-123\n").returncode, 0)
        self.espd.start()
        token = call(self.espd.url("/auth"), "POST", json_body={"email": "db@example.com", "password": "password-123"})
        self.headers = bearer(token.json()["token"])

    def post(self, path, body=None):
        return call(self.espd.url(path), "POST", json_body=body, headers=self.headers)

    def generation(self, body=None):
        """Asks for the next generation and long-polls it; returns the finished operation."""
        answer = self.post("/v1/experiments/restart/generations", body)
        self.assertEqual(answer.status, 202, answer.body)
        operation = call(self.espd.url(f"/v1/operations/{answer.json()['id']}?wait=30"), headers=self.headers,
                         timeout=60).json()
        self.assertEqual(operation["status"], "succeeded", operation)
        return operation["result"]["checkpoint_id"]

    def evaluated(self, checkpoint_id):
        population = call(self.espd.url(f"/v1/experiments/restart/checkpoints/{checkpoint_id}"), headers=self.headers)
        self.assertEqual(population.status, 200, population.body)
        return {"checkpoint_id": checkpoint_id,
                "population": [{"id": c["id"], "metrics": {"score": score(c["id"])}}
                               for c in population.json()["population"]]}

    def test_requests_succeed_across_a_database_restart(self):
        self.assertEqual(self.post("/v1/experiments", {"id": "restart", "params": FIXTURE}).status, 201)
        seed = self.generation()

        self.database("restart")  # every pooled connection and the LISTEN session are now dead
        second = self.generation(self.evaluated(seed))
        self.assertTrue(second.startswith("restart/2/"), second)
        self.assertEqual(call(self.espd.url("/readyz")).status, 200)
        # The notification listener reconnected too: it announces itself on each connection.
        self.assertIsNotNone(self.espd.wait_for_log(lambda l: l.get("msg") == "job_notifications_listening"
                                                    and l.get("connection", 0) >= 2, 30))

        self.database("stop")
        ready = call(self.espd.url("/readyz"))
        self.assertEqual(ready.status, 503)
        self.assertIn("database", ready.json()["checks"])
        self.assertNotEqual(ready.json()["checks"]["database"], "ok")
        refused = self.post("/v1/experiments", {"id": "while-down", "params": FIXTURE})
        self.assertEqual(refused.status, 503, refused.body)
        self.assertEqual(refused.header("Content-Type"), "application/problem+json")

        self.database("restart")
        self.assertEqual(call(self.espd.url("/readyz")).status, 200)
        third = self.generation(self.evaluated(second))
        self.assertTrue(third.startswith("restart/3/"), third)
        # Nothing made while the database was down exists; what was made before still does.
        self.assertEqual(call(self.espd.url("/v1/experiments/while-down"), headers=self.headers).status, 404)
        listed = call(self.espd.url("/v1/experiments/restart/checkpoints"), headers=self.headers).json()
        self.assertEqual(sorted(c["id"] for c in listed["checkpoints"]), sorted([seed, second, third]))
        self.assertIsNone(self.espd.process.poll())


if __name__ == "__main__":
    unittest.main()
