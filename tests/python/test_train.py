"""Experiment.train: the evaluator loop in worker processes and on a real Dask
cluster (a scheduler and two workers on loopback), early stop on the fitness target,
the folder it leaves, and resuming after Ctrl-C."""
import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

import esp_client
import evaluators
from conftest import PASSWORD, WRITER, experiment_params
from espd import free_port

HERE = os.path.dirname(os.path.abspath(__file__))


def stats_rows(folder):
    with open(os.path.join(folder, "stats.csv")) as f:
        return list(csv.DictReader(f))


def evaluated_pids(exp):
    """Which processes evaluated the last told generation (its pid metric, as espd kept it)."""
    pop = exp.resume(exp.checkpoint_id)
    return {int(m["pid"]) for m in pop.evaluation_stats["server_metrics"].values()}


def test_four_processes_train_to_the_target_and_leave_stats_best_and_front(client, tmp_path):
    params = experiment_params(population_size=24, generations=60, early_stop=True,
                               fitness=[{"metric_name": "score", "maximize": True, "target": 0.8}])
    exp = client.experiment("four-processes", params)
    folder = tmp_path / "run"
    result = exp.train(evaluators.Imitation(), workers=4, folder=str(folder), progress=False)
    assert result.stopped_early and result.generation < 60
    assert result.best.metrics["score"] >= 0.8
    rows = stats_rows(folder)
    assert [int(r["generation"]) for r in rows] == list(range(1, result.generation + 1))
    assert float(rows[-1]["score_best"]) >= 0.8 > float(rows[0]["score_best"])
    assert all(float(r["score_min"]) <= float(r["score_mean"]) <= float(r["score_max"]) for r in rows)
    assert int(rows[0]["candidates"]) == 24 and rows[-1]["checkpoint_id"].startswith(f"four-processes/{result.generation}/")
    best = esp_client.Candidate.load(folder / "best.json")
    assert best.id == result.best.id and best.metrics["score"] == pytest.approx(result.best.metrics["score"])
    assert 1 - abs(best.predict(evaluators.CONTEXTS)["action"] - evaluators.wanted(evaluators.CONTEXTS)).mean() \
        == pytest.approx(best.metrics["score"], rel=1e-5)
    assert sorted(os.listdir(folder / "pareto")) == [f"{result.best.id}.json"]  # one objective: the best
    pids = evaluated_pids(exp)
    assert len(pids) > 1 and os.getpid() not in pids
    # The experiment is over: training it again evaluates nothing more.
    again = client.experiment("four-processes", params).train(evaluators.Imitation(), progress=False)
    assert again.stopped_early and again.generation == 0


def test_training_stops_after_the_last_generation_and_keeps_the_pareto_front(client, tmp_path):
    params = experiment_params(population_size=20, fitness=[{"metric_name": "score", "maximize": True},
                                                            {"metric_name": "pid", "maximize": False}])
    exp = client.experiment("three-generations", params)
    result = exp.train(evaluators.Imitation(), generations=3, folder=str(tmp_path), progress=False)
    assert (result.generation, exp.generation, result.stopped_early) == (3, 4, False)
    assert [r["generation"] for r in stats_rows(tmp_path)] == ["1", "2", "3"]
    front = [esp_client.Candidate.load(tmp_path / "pareto" / name) for name in os.listdir(tmp_path / "pareto")]
    # One process evaluated everything, so pid ties and the front is the best score alone.
    assert [c.metrics["score"] for c in front] == [result.best.metrics["score"]]


def test_an_evaluator_that_returns_no_metrics_stops_with_the_candidate_named(client):
    exp = client.experiment("broken", experiment_params())
    with pytest.raises(TypeError, match="candidate 1_1"):
        exp.train(evaluators.Broken(), generations=2, progress=False)
    assert exp.generation == 1  # nothing was told


TRAIN_SCRIPT = """
import json, sys
import esp_client, evaluators
from conftest import experiment_params
url, email, password, folder = sys.argv[1:]
exp = esp_client.Client(url, email=email, password=password).experiment("interrupted", experiment_params())
result = exp.train(evaluators.Imitation(delay_s=0.03), generations=8, workers=2, folder=folder)
print(json.dumps({"generation": result.generation, "checkpoint_id": result.checkpoint_id}))
"""


def test_training_interrupted_with_ctrl_c_resumes_from_the_last_checkpoint(url, tmp_path):
    folder = str(tmp_path / "run")
    command = [sys.executable, "-c", TRAIN_SCRIPT, url, WRITER, PASSWORD, folder]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    deadline = time.monotonic() + 120
    while not (os.path.exists(os.path.join(folder, "stats.csv")) and len(stats_rows(folder)) >= 2):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.05)
    os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends to the whole group
    _, stderr = run.communicate(timeout=60)
    assert run.returncode != 0 and "KeyboardInterrupt" in stderr and "resumes from checkpoint" in stderr, stderr
    before = [int(r["generation"]) for r in stats_rows(folder)]
    assert before[-1] < 8

    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["generation"] == 8
    generations = [int(r["generation"]) for r in stats_rows(folder)]
    # Generations told before the interruption are not evaluated again; the run ends at 8.
    assert generations[:len(before)] == before and generations == sorted(set(generations))
    assert generations[-1] == 8 and len(generations) >= 7
    assert "generations" in finished.stderr  # the tqdm bar


@pytest.fixture
def dask_cluster():
    """A real Dask scheduler and two single-threaded workers on loopback."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, os.environ.get("PYTHONPATH", "")]))
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--no-dashboard"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nworkers", "1",
                                 "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        import distributed

        with distributed.Client(address, timeout=60) as dask:
            dask.wait_for_workers(2, timeout=60)
            pids = set(dask.run(os.getpid).values())
        yield address, pids
    finally:
        for process in [*workers, scheduler]:
            process.terminate()
        for process in [*workers, scheduler]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_dask_cluster_evaluates_every_candidate_on_its_workers(client, dask_cluster, tmp_path):
    address, worker_pids = dask_cluster
    exp = client.experiment("dask", experiment_params(population_size=20))
    result = exp.train(evaluators.Imitation(delay_s=0.01), generations=4, dask=address, folder=str(tmp_path),
                       progress=False)
    assert result.generation == 4 and [r["generation"] for r in stats_rows(tmp_path)] == ["1", "2", "3", "4"]
    pids = evaluated_pids(exp)
    assert pids == worker_pids, (pids, worker_pids)
