"""Two espd replicas sharing one PostgreSQL database and one S3 bucket (ctest starts
both servers): an API-only replica queues a generation that the other replica runs;
the operation is visible and long-pollable on both, and the checkpoint written by one
is read through the other."""
import json
import os
import unittest

import openapi_check
from cluster import Cluster
from httpjson import call

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))


class ReplicasTest(unittest.TestCase):
    def test_a_job_queued_on_one_replica_runs_on_another(self):
        self.assertTrue(os.environ.get("ESP_TEST_POSTGRES_URL_FILE") and os.environ.get("ESP_TEST_S3_ENDPOINT_FILE"),
                        "run through ctest, which starts PostgreSQL and s3rver")
        cluster = Cluster([["--workers", "0"], ["--workers", "1"]])
        self.addCleanup(cluster.close)
        api_only, worker = cluster.replicas
        headers = cluster.headers
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


if __name__ == "__main__":
    unittest.main()
