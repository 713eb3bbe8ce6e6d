"""Three espd replicas on one PostgreSQL database and one s3rver bucket behind nginx
(ctest starts both servers): 200 generation jobs across 20 experiments go through
the balancer while one replica is killed with SIGKILL in the middle of a job. Every
job succeeds exactly once, the dead replica's job is finished by another, and every
checkpoint reads the same from every replica."""
import json
import os
import signal
import threading
import unittest

from cluster import Cluster, database_rows, drive
from httpjson import call

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
EXPERIMENTS, GENERATIONS = 20, 10
LEASE_MS = 2000


class BalancedReplicasTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.environ.get("ESP_TEST_POSTGRES_URL_FILE") and os.environ.get("ESP_TEST_S3_ENDPOINT_FILE"),
                        "run through ctest, which starts PostgreSQL and s3rver")
        self.cluster = Cluster(3, "--workers", "1", "--job-lease-ms", str(LEASE_MS))
        self.addCleanup(self.cluster.close)

    def kill_during_a_job(self, victim):
        """SIGKILLs `victim` while it holds a running job; returns that job's id. The
        replica is stopped first, so the job cannot finish between the check and the kill."""
        checked = set()
        while True:
            started = victim.wait_for_log(lambda l: l.get("msg") == "job_started" and l["operation"] not in checked,
                                          120)
            self.assertIsNotNone(started, "the victim replica never started a job")
            checked.add(started["operation"])
            if len(checked) <= 3:
                continue  # let it do some work first
            victim.process.send_signal(signal.SIGSTOP)
            [[status, owner]] = database_rows(self.cluster.storage,
                                              f"SELECT status, lease_owner FROM jobs WHERE id = '{started['operation']}'")
            if status == "running" and owner == started["worker"]:
                victim.process.kill()
                victim.process.wait()
                return started["operation"]
            victim.process.send_signal(signal.SIGCONT)

    def test_jobs_survive_a_replica_killed_mid_run(self):
        survivors, victim = self.cluster.replicas[:2], self.cluster.replicas[2]
        outcome = {}

        def run_clients():
            try:
                outcome["drivers"] = drive(self.cluster.balancer.url(""), self.cluster.headers, EXPERIMENTS,
                                           GENERATIONS, FIXTURE)
            except BaseException as error:
                outcome["error"] = error

        clients = threading.Thread(target=run_clients)
        clients.start()
        killed_job = self.kill_during_a_job(victim)
        clients.join()
        if "error" in outcome:
            raise outcome["error"]
        drivers = outcome["drivers"]

        operations = [op for d in drivers for op, _ in d.operations]
        self.assertEqual(len(operations), EXPERIMENTS * GENERATIONS)
        self.assertEqual(len(set(operations)), len(operations))
        self.assertIn(killed_job, operations)

        # Exactly once: one job row per request, one checkpoint per job, ten generations each.
        jobs = database_rows(self.cluster.storage, "SELECT id, status, attempts, result_checkpoint FROM jobs")
        self.assertEqual(sorted(j[0] for j in jobs), sorted(operations))
        self.assertEqual({j[1] for j in jobs}, {"succeeded"})
        self.assertGreaterEqual(int(next(j[2] for j in jobs if j[0] == killed_job)), 2)
        checkpoints = database_rows(self.cluster.storage,
                                    "SELECT job_id, checkpoint_id, experiment_id, generation FROM checkpoints")
        self.assertEqual(sorted(c[0] for c in checkpoints), sorted(operations))
        self.assertEqual({j[0]: j[3] for j in jobs}, {c[0]: c[1] for c in checkpoints})
        for driver in drivers:
            generations = sorted(int(c[3]) for c in checkpoints if c[2] == driver.experiment_id)
            self.assertEqual(generations, list(range(1, GENERATIONS + 1)), driver.experiment_id)

        # Each job's success was logged once, the victim's before it died included (job
        # lines are written at once), and the dead replica's job by a survivor.
        succeeded = [l["operation"] for r in self.cluster.replicas for l in r.lines if l.get("msg") == "job_succeeded"]
        self.assertEqual(sorted(succeeded), sorted(operations))
        self.assertFalse(any(l.get("operation") == killed_job for l in victim.lines if l.get("msg") == "job_succeeded"))
        finisher = [r for r in survivors if any(l.get("msg") == "job_succeeded" and l["operation"] == killed_job
                                                for l in r.lines)]
        self.assertEqual(len(finisher), 1)

        # Every replica, the restarted victim included, reads every experiment's checkpoints alike.
        victim.start()
        killed_checkpoint = next(j[3] for j in jobs if j[0] == killed_job)
        for driver in drivers:
            checkpoint_ids = {driver.operations[-1][1], driver.operations[0][1]}
            if killed_checkpoint.startswith(driver.experiment_id + "/"):
                checkpoint_ids.add(killed_checkpoint)
            for checkpoint_id in checkpoint_ids:
                path = f"/v1/experiments/{driver.experiment_id}/checkpoints/{checkpoint_id}"
                answers = [call(r.url(path), headers=self.cluster.headers) for r in self.cluster.replicas]
                self.assertEqual([a.status for a in answers], [200] * 3, path)
                self.assertEqual(len(answers[0].json()["population"]), FIXTURE["evolution"]["population_size"])
                self.assertTrue(all(a.json() == answers[0].json() for a in answers), path)


if __name__ == "__main__":
    unittest.main()
