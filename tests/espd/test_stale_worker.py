"""A worker that lost its lease, against two real replicas on one PostgreSQL database
and one s3rver bucket (ctest starts both): replica A is frozen (SIGSTOP) while it runs a
job, its lease runs out, replica B runs the job again and records it; then A wakes and
finishes. A can neither record its result nor overwrite the payload B recorded: the job
ends exactly once, with B's checkpoint, and reads the same from both replicas."""
import json
import os
import signal
import time
import unittest

from cluster import EMAIL, PASSWORD, SHARED_ENV, database_rows
from espd import Espd, postgres_database_args, s3_bucket_args
from httpjson import bearer, call

FIXTURE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "experiment.json")))
LEASE_MS = 1000


class StaleWorkerTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.environ.get("ESP_TEST_POSTGRES_URL_FILE") and os.environ.get("ESP_TEST_S3_ENDPOINT_FILE"),
                        "run through ctest, which starts PostgreSQL and s3rver")
        self.storage = postgres_database_args() + s3_bucket_args()
        args = ["--issuer", "http://esp.test/", "--workers", "1", "--job-lease-ms", str(LEASE_MS)]
        self.a = Espd(*args, env=SHARED_ENV, storage_args=self.storage, defer_start=True)
        self.b = Espd(*args, env=SHARED_ENV, storage_args=self.storage, defer_start=True)
        for replica in (self.a, self.b):
            replica.__enter__()
            self.addCleanup(replica.__exit__, None, None, None)
        self.a.start()
        self.assertEqual(self.a.admin("users", "add", EMAIL, password=PASSWORD + "\n").returncode, 0)
        token = call(self.a.url("/auth"), "POST", json_body={"email": EMAIL, "password": PASSWORD}).json()["token"]
        self.headers = bearer(token)

    def post(self, replica, path, body=None):
        return call(replica.url(path), "POST", json_body=body, headers=self.headers)

    def test_a_worker_that_lost_its_lease_records_and_overwrites_nothing(self):
        params = json.loads(json.dumps(FIXTURE))
        params["evolution"]["population_size"] = 2000  # long enough to be caught running
        operation = experiment = None
        for attempt in range(20):  # until A is frozen while its job is running
            experiment = f"stale-{attempt}"
            self.assertEqual(self.post(self.a, "/v1/experiments", {"id": experiment, "params": params}).status, 201)
            queued = self.post(self.a, f"/v1/experiments/{experiment}/generations").json()
            started = self.a.wait_for_log(lambda l: l.get("msg") == "job_started"
                                          and l["operation"] == queued["id"], 30)
            self.assertIsNotNone(started)
            self.a.process.send_signal(signal.SIGSTOP)
            [[status, owner]] = database_rows(self.storage,
                                              f"SELECT status, lease_owner FROM jobs WHERE id = '{queued['id']}'")
            if status == "running" and owner == started["worker"]:
                operation = queued["id"]
                break
            self.a.process.send_signal(signal.SIGCONT)  # it had finished: try again
        self.assertIsNotNone(operation, "never caught A running its job")

        # B starts, finds the lease run out, and runs the job again.
        self.b.start()
        ended = call(self.b.url(f"/v1/operations/{operation}?wait=50"), headers=self.headers).json()
        self.assertEqual(ended["status"], "succeeded", ended)
        self.assertEqual(ended["attempts"], 2)
        recorded = ended["result"]["checkpoint_id"]
        before = call(self.b.url(f"/v1/experiments/{experiment}/checkpoints/{recorded.replace('/', '%2F')}"),
                      headers=self.headers).body

        # A wakes up and finishes its (first) attempt.
        self.a.process.send_signal(signal.SIGCONT)
        late = self.a.wait_for_log(lambda l: l.get("msg") in ("job_succeeded", "job_record_failed")
                                   and l.get("operation") == operation, 60)
        self.assertIsNotNone(late, "the stale worker never finished")
        self.assertIs(late.get("recorded"), False, late)

        [[status, result, attempts]] = database_rows(
            self.storage, f"SELECT status, result_checkpoint, attempts FROM jobs WHERE id = '{operation}'")
        self.assertEqual((status, result, attempts), ("succeeded", recorded, "2"))
        checkpoints = database_rows(self.storage, f"SELECT checkpoint_id, blob_key FROM checkpoints WHERE job_id = '{operation}'")
        self.assertEqual([c[0] for c in checkpoints], [recorded])
        self.assertTrue(checkpoints[0][1].endswith(f"{operation}-2.pb"), checkpoints)
        for replica in (self.a, self.b):
            after = call(replica.url(f"/v1/experiments/{experiment}/checkpoints/{recorded.replace('/', '%2F')}"),
                         headers=self.headers)
            self.assertEqual(after.status, 200)
            self.assertEqual(after.body, before)  # A's late payload went beside it, not over it
            self.assertEqual(after.json()["checkpoint_id"], recorded)


if __name__ == "__main__":
    unittest.main()
