"""Generation jobs survive a kill -9: after a restart every queued or running job
finishes exactly once, with an intact checkpoint."""
import concurrent.futures
import json
import os
import sqlite3
import unittest

import grpc

from espd import Espd, free_port
from httpjson import call
from population_stubs import population_service_pb2_grpc as service
from population_stubs import population_structs_pb2 as structs

JOBS = 50


def params():
    # Large enough that 50 seed generations take a while on two cores.
    return {"network": {"inputs": [{"name": "x", "size": 64}],
                        "hidden_layers": [{"layer_params": {"units": 64, "activation": "tanh"}}],
                        "outputs": [{"name": "y", "size": 4, "activation": "softmax"}]},
            "evolution": {"population_size": 200, "initialization_distribution": "orthogonal"}}


class CrashSafetyTest(unittest.TestCase):
    def test_jobs_finish_once_after_kill_9(self):
        with Espd("--workers", "2", defer_start=True, ports=(free_port(), free_port())) as espd:
            espd.admin("users", "add", "a@example.com", password="password-123\n")
            espd.start()
            token = call(espd.url("/auth"), "POST",
                         json_body={"email": "a@example.com", "password": "password-123"}).json()["token"]
            metadata = [("authorization", f"Bearer {token}")]
            requests = [structs.PopulationRequest(experiment_id=f"crash-{i}", config=json.dumps(params()).encode())
                        for i in range(JOBS)]

            def submit(request, timeout):
                # As ESP SDK clients do: the default 4 MB is too small for real populations.
                options = [("grpc.max_receive_message_length", 50 << 20)]
                with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}", options=options) as channel:
                    try:
                        return service.PopulationServiceStub(channel).NextPopulation(
                            request, metadata=metadata, timeout=timeout)
                    except grpc.RpcError as error:
                        return error.code()

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                first = list(pool.map(lambda r: submit(r, 1.0), requests))
            self.assertIn(grpc.StatusCode.DEADLINE_EXCEEDED, first)  # some were still queued or running
            espd.wait_for_log(lambda line: line.get("msg") == "job_started", 30)
            espd.process.kill()
            espd.process.wait()

            database = os.path.join(espd.data_dir.name, "esp.db")
            with sqlite3.connect(database) as db:
                unfinished = db.execute("SELECT COUNT(*) FROM jobs WHERE status != 'succeeded'").fetchone()[0]
            self.assertGreater(unfinished, 0)

            espd.start()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                again = list(pool.map(lambda r: submit(r, 300), requests))
            for request, population in zip(requests, again):
                self.assertIsInstance(population, structs.PopulationResponse, f"{request.experiment_id}: {population}")
                self.assertEqual(population.generation_count, 1)
                self.assertEqual(len(population.population), 200)

            with sqlite3.connect(database) as db:
                jobs = db.execute("SELECT id, status, result_checkpoint FROM jobs").fetchall()
                checkpoints = db.execute("SELECT job_id, checkpoint_id, blob_key, size_bytes FROM checkpoints").fetchall()
            self.assertEqual(len(jobs), JOBS)  # resending created no second job
            self.assertTrue(all(status == "succeeded" for _, status, _ in jobs))
            self.assertEqual(len(checkpoints), JOBS)  # one checkpoint per job
            by_job = {job_id: (checkpoint_id, blob, size) for job_id, checkpoint_id, blob, size in checkpoints}
            for job_id, _, result in jobs:
                checkpoint_id, blob, size = by_job[job_id]
                self.assertEqual(result, checkpoint_id)
                with open(os.path.join(espd.data_dir.name, "blobs", blob), "rb") as f:
                    payload = f.read()
                self.assertEqual(len(payload), size)
                stored = structs.PopulationResponse.FromString(payload)
                self.assertEqual(stored.checkpoint_id, checkpoint_id)
                self.assertEqual(len(stored.population), 200)
            answered = {population.checkpoint_id for population in again}
            self.assertEqual(answered, set(by_job[job_id][0] for job_id, _, _ in jobs))


if __name__ == "__main__":
    unittest.main()
