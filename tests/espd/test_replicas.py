"""Two espd replicas sharing one PostgreSQL database and one S3 bucket (ctest starts
both servers): an API-only replica queues a generation that the other replica runs;
the operation is visible and long-pollable on both, and the checkpoint written by one
is read through the other."""
import json
import os
import unittest

import openapi_check
from espd import Espd, postgres_database_args, s3_bucket_args
from httpjson import bearer, call

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
SHARED = {"JWT_SECRET": "replicas-share-this-hs256-secret-0123456789"}


class ReplicasTest(unittest.TestCase):
    def test_a_job_queued_on_one_replica_runs_on_another(self):
        self.assertTrue(os.environ.get("ESP_TEST_POSTGRES_URL_FILE") and os.environ.get("ESP_TEST_S3_ENDPOINT_FILE"),
                        "run through ctest, which starts PostgreSQL and s3rver")
        storage = postgres_database_args() + s3_bucket_args()
        common = ["--issuer", "http://esp.test/"]
        api_only = Espd(*common, "--workers", "0", env=SHARED, storage_args=storage, defer_start=True)
        worker = Espd(*common, "--workers", "1", env=SHARED, storage_args=storage, defer_start=True)
        try:
            api_only.__enter__()
            added = api_only.admin("users", "add", "r@example.com", password="password-123\n")
            self.assertEqual(added.returncode, 0, added.stderr)
            api_only.start()
            worker.__enter__()
            worker.start()
            token = call(api_only.url("/auth"), "POST",
                         json_body={"email": "r@example.com", "password": "password-123"}).json()["token"]
            headers = bearer(token)
            created = call(api_only.url("/v1/experiments"), "POST", {"id": "shared", "params": FIXTURE},
                           headers=headers)
            self.assertEqual(created.status, 201, created.body)
            operation = call(api_only.url("/v1/experiments/shared/generations"), "POST", headers=headers).json()

            # Long-polled on the replica that has no workers: the other one runs the job.
            done = call(api_only.url(f"/v1/operations/{operation['id']}?wait=60"), headers=headers, timeout=90)
            openapi_check.check("GET", f"/v1/operations/{operation['id']}", done)
            self.assertEqual(done.json()["status"], "succeeded", done.body)
            self.assertIsNotNone(worker.wait_for_log(lambda l: l.get("msg") == "job_succeeded"
                                                     and l.get("operation") == operation["id"]))
            self.assertEqual(call(worker.url(f"/v1/operations/{operation['id']}"), headers=headers).json(),
                             done.json())

            checkpoint = done.json()["result"]["checkpoint_id"]
            for replica in (api_only, worker):
                population = call(replica.url(f"/v1/experiments/shared/checkpoints/{checkpoint}"), headers=headers)
                self.assertEqual(population.status, 200, population.body)
                self.assertEqual(len(population.json()["population"]), FIXTURE["evolution"]["population_size"])
        finally:
            worker.__exit__(None, None, None)
            api_only.__exit__(None, None, None)


if __name__ == "__main__":
    unittest.main()
