"""The dashboard at /dashboard/ in a real browser: headless Debian Chromium, driven over
the DevTools protocol, against two espd replicas on PostgreSQL and S3 (one without
workers serves the pages, so a generation it queues waits until a worker replica
starts). Signs in, lists experiments, draws each objective's line chart and the Pareto
front with the right points, shows a candidate's lineage, sees an operation go from
queued to succeeded without a reload, takes a token from the URL fragment, returns to
sign-in on 401, and logs no CSP violation. A screenshot per page is kept in the build
folder (ESP_TEST_ARTIFACTS/dashboard-*.png)."""
import json
import os
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))

import numpy as np  # noqa: E402

import esp_client  # noqa: E402
from browser import Browser  # noqa: E402
from cluster import EMAIL, PASSWORD, SHARED_ENV, Cluster  # noqa: E402
from espd import Espd  # noqa: E402
from httpjson import call  # noqa: E402

ARTIFACTS = os.environ.get("ESP_TEST_ARTIFACTS", "/tmp")
ADMIN = "admin@example.com"
GENERATIONS = 5
POPULATION = 16


def params():
    return {"network": {"inputs": [{"name": "context", "size": 3}],
                        "hidden_layers": [{"layer_name": "hidden_1", "layer_params": {"units": 6}}],
                        "outputs": [{"name": "action", "size": 2}]},
            "evolution": {"nb_generations": 20, "population_size": POPULATION, "nb_elites": 2,
                          "mutation_type": "gaussian_noise_fixed", "mutation_probability": 0.2,
                          "mutation_factor": 0.2, "seed": 3,
                          "fitness": [{"metric_name": "reward", "maximize": True},
                                      {"metric_name": "cost", "maximize": False}]}}


def metrics_of(population):
    """Two conflicting objectives from the weights, as a predictor would give."""
    return {c.id: {"reward": float(np.tanh(c.genome[:8]).sum()), "cost": float(np.abs(c.genome[:8]).sum())}
            for c in population}


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        assert os.environ.get("ESP_TEST_POSTGRES_URL_FILE"), "run through ctest, which starts PostgreSQL and s3rver"
        cls.cluster = Cluster([["--workers", "0"]])
        cls.pages = cls.cluster.replicas[0]
        added = cls.pages.admin("users", "add", ADMIN, "--scopes", "all:esp", password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        cls.worker = cls.start_worker()
        client = esp_client.Client(cls.pages.url(""), email=EMAIL, password=PASSWORD)
        cls.experiment = client.experiment("pareto-demo", params())
        for _ in range(GENERATIONS):
            cls.experiment.tell(metrics_of(cls.experiment.ask()))
        three = params()
        three["evolution"]["fitness"].append({"metric_name": "size", "maximize": False})
        second = client.experiment("second", three)
        population = second.ask()
        second.tell({i: dict(m, size=float(len(i))) for i, m in metrics_of(population).items()})
        cls.browser = Browser().__enter__()
        cls.page = cls.browser.page()

    @classmethod
    def tearDownClass(cls):
        cls.page.close()
        cls.browser.__exit__(None, None, None)
        if cls.worker:
            cls.worker.__exit__(None, None, None)
        cls.cluster.close()

    @classmethod
    def start_worker(cls):
        worker = Espd("--issuer", "http://esp.test/", "--workers", "1", env=SHARED_ENV,
                      storage_args=cls.cluster.storage, defer_start=True).__enter__()
        worker.start()
        return worker

    def url(self, fragment=""):
        return self.pages.url("/dashboard/") + fragment

    def shot(self, name):
        os.makedirs(ARTIFACTS, exist_ok=True)
        self.page.screenshot(os.path.join(ARTIFACTS, f"dashboard-{name}.png"))

    def sign_in(self, email):
        self.page.navigate(self.url())
        self.page.wait_for("!document.getElementById('sign-in').hidden", what="the sign-in form")
        self.page.evaluate(f"""(() => {{
            document.getElementById('email').value = {email!r};
            document.getElementById('password').value = {PASSWORD!r};
            document.getElementById('password-form').requestSubmit(); }})()""")
        self.wait_for_list()

    def wait_for_list(self):
        # The section shows at once; its rows once their page has been fetched.
        self.page.wait_for("!document.getElementById('experiments').hidden && "
                           "document.getElementById('experiment-table').dataset.loaded === 'true'",
                           what="the experiment list")

    def rows(self):
        return self.page.evaluate("[...document.querySelectorAll('#experiment-table tbody tr')]"
                                  ".map(r => [...r.cells].map(c => c.textContent))")

    def test_1_pages_are_served_under_a_strict_content_security_policy(self):
        for path in ("/dashboard/", "/dashboard/dashboard.js", "/dashboard/echarts.min.js"):
            answer = call(self.pages.url(path))
            self.assertEqual(answer.status, 200, path)
            policy = answer.header("Content-Security-Policy")
            self.assertIn("script-src 'self'", policy)
            self.assertIn("frame-ancestors 'none'", policy)
            self.assertNotIn("unsafe-inline", policy)
        self.assertNotIn("<script>", call(self.pages.url("/dashboard/")).body.decode())
        self.assertEqual(call(self.pages.url("/dashboard/../esp.db")).status, 404)

    def test_2_sign_in_list_experiment_charts_front_and_live_operations(self):
        self.page.navigate(self.url())
        self.page.wait_for("!document.getElementById('sign-in').hidden", what="the sign-in form")
        self.shot("sign-in")
        self.sign_in(EMAIL)
        self.assertEqual(self.page.evaluate("sessionStorage.getItem('esp.token') !== null"), True)
        self.assertEqual(sorted(r[0] for r in self.rows()), ["pareto-demo", "second"])
        self.assertEqual(self.page.evaluate("document.getElementById('owner-switch').hidden"), True)
        self.shot("experiments")

        self.page.evaluate("[...document.querySelectorAll('#experiment-table tbody tr')]"
                           ".find(r => r.cells[0].textContent === 'pareto-demo').click()")
        self.page.wait_for("!!(window.espDashboard && espDashboard.charts.length === 2 && espDashboard.frontChart)",
                           what="the charts")
        # One point per evaluated generation in each objective's best, mean and worst lines.
        points = self.page.evaluate("espDashboard.charts.map(c => c.getOption().series.map(s => s.data.length))")
        self.assertEqual(points, [[GENERATIONS] * 3, [GENERATIONS] * 3])
        stats = call(self.pages.url("/v1/experiments/pareto-demo/stats"), headers=self.cluster.headers).json()
        best_reward = [g["objectives"][0]["max"] for g in stats["generations"]]
        self.assertEqual(self.page.evaluate("espDashboard.charts[0].getOption().series[0].data"), best_reward)
        # The front: every candidate of the last evaluated generation, the first front apart.
        front = self.page.evaluate("espDashboard.frontChart.getOption().series.map(s => s.data.length)")
        self.assertEqual(sum(front), POPULATION)
        self.assertEqual(front[0], stats["generations"][-1]["first_front_size"])
        self.assertEqual(self.page.evaluate("document.getElementById('front-generation').textContent"),
                         str(GENERATIONS))
        # A candidate's identity and lineage, from the checkpoint it was handed out in.
        shown = self.page.wait_for("document.querySelector('#candidate dl')?.dataset.candidate",
                                   what="the candidate panel")
        panel = self.page.evaluate("document.getElementById('candidate').textContent")
        self.assertIn("origin", panel)
        self.assertIn("parents", panel)
        latest = call(self.pages.url("/v1/experiments/pareto-demo"), headers=self.cluster.headers).json()
        evaluated = call(self.pages.url(f"/v1/experiments/pareto-demo/checkpoints/{latest['latest_checkpoint']}"
                                        "?interpretations=false"), headers=self.cluster.headers).json()
        self.assertIn(shown, evaluated["evaluation_stats"]["server_metrics"])
        self.assertEqual(evaluated["evaluation_stats"]["server_metrics"][shown]["NSGA-II_rank"], 0)
        operations = self.page.evaluate("[...document.querySelectorAll('#operations tbody tr')].map(r => r.dataset.status)")
        self.assertEqual(operations, ["succeeded"] * (GENERATIONS + 1))
        self.shot("experiment")

        # A generation queued while no replica has workers: the page shows it waiting,
        # then done once a worker replica starts, without a reload.
        type(self).worker.__exit__(None, None, None)
        type(self).worker = None
        self.page.evaluate("window.notReloaded = true")
        population = self.experiment.ask()
        body = {"checkpoint_id": population.checkpoint_id,
                "population": [{"id": i, "metrics": m} for i, m in metrics_of(population).items()]}
        queued = call(self.pages.url("/v1/experiments/pareto-demo/generations"), "POST", json_body=body,
                      headers=self.cluster.headers).json()
        self.page.wait_for(f"document.querySelector('#operations tr[data-operation=\"{queued['id']}\"]')"
                           "?.dataset.status === 'queued'", what="the queued operation")
        self.shot("operation-queued")
        type(self).worker = self.start_worker()
        self.page.wait_for(f"document.querySelector('#operations tr[data-operation=\"{queued['id']}\"]')"
                           "?.dataset.status === 'succeeded'", timeout_s=60, what="the operation to succeed")
        self.page.wait_for(f"espDashboard.charts[0].getOption().series[0].data.length === {GENERATIONS + 1}",
                           what="the charts redrawn with the new generation")
        # Its stages as the page shows them: it waited (no worker) and then ran.
        waited, ran = self.page.evaluate(
            f"[...document.querySelector('#operations tr[data-operation=\"{queued['id']}\"]').cells]"
            ".slice(3, 5).map(c => c.textContent)")
        self.assertGreater(float(waited.split()[0]), 0.5)
        self.assertTrue(ran.endswith(" s"), ran)
        self.assertEqual(self.page.evaluate("window.notReloaded"), True)
        self.assertFalse([entry for entry in self.page.log if entry[1] == "error"], self.page.log)

    def test_3_a_token_in_the_fragment_is_taken_and_removed_and_401_returns_to_sign_in(self):
        token = call(self.pages.url("/auth"), "POST", json_body={"email": EMAIL, "password": PASSWORD}).json()["token"]
        self.page.navigate(self.pages.url("/dashboard/?fresh=1"))  # a new document: nothing stored yet
        self.page.wait_for("document.readyState === 'complete'")
        self.page.evaluate("sessionStorage.clear()")
        self.page.navigate(self.url(f"#token={token}"))
        self.wait_for_list()
        self.assertEqual(self.page.evaluate("location.hash"), "")
        self.assertNotIn(token, self.page.evaluate("location.href"))
        self.assertEqual(self.page.evaluate("sessionStorage.getItem('esp.token')"), token)
        # A token espd no longer accepts: the next call answers 401 and the page asks to sign in.
        self.page.evaluate("sessionStorage.setItem('esp.token', 'expired.or.revoked'); location.hash = '#/experiments/second'")
        self.page.wait_for("!document.getElementById('sign-in').hidden", what="sign-in after 401")
        self.assertIn("sign in again", self.page.evaluate("document.getElementById('sign-in-message').textContent"))
        self.assertIsNone(self.page.evaluate("sessionStorage.getItem('esp.token')"))

    def test_4_three_objectives_get_a_pair_picker_and_checkpoints_download(self):
        self.page.evaluate("sessionStorage.clear()")
        self.sign_in(EMAIL)
        self.page.evaluate("location.hash = '#/experiments/second'")
        self.page.wait_for("!!(window.espDashboard && espDashboard.id === 'second' && espDashboard.frontChart)",
                           what="the three-objective experiment")
        self.assertEqual(self.page.evaluate("document.getElementById('pair-picker').hidden"), False)
        self.assertEqual(self.page.evaluate("espDashboard.charts.length"), 3)
        self.page.evaluate("""(() => { const y = document.getElementById('front-y');
            y.value = 'size'; y.dispatchEvent(new Event('change')); })()""")
        self.assertEqual(self.page.evaluate("espDashboard.frontChart.getOption().yAxis[0].name"), "size")
        # Tooltips name the candidate, escaped.
        tip = self.page.evaluate("espDashboard.frontChart.getOption().tooltip[0].formatter("
                                 "{data: {candidate: {id: '<b>x', metrics: {reward: 1}}}})")
        self.assertIn("&#60;b&#62;x", tip)
        with tempfile.TemporaryDirectory() as folder:
            self.page.send("Page.setDownloadBehavior", behavior="allow", downloadPath=folder)
            self.page.evaluate("document.querySelector('#checkpoints tbody button').click()")
            deadline = time.monotonic() + 30
            while not [f for f in os.listdir(folder) if f.endswith(".json")] and time.monotonic() < deadline:
                time.sleep(0.1)
            (name,) = [f for f in os.listdir(folder) if f.endswith(".json")]
            with open(os.path.join(folder, name)) as f:
                downloaded = json.load(f)
        self.assertEqual(downloaded["experiment_id"], "second")
        self.assertEqual(downloaded["generation"], 2)
        self.assertTrue(downloaded["population"][0]["interpretation"])
        self.shot("three-objectives")

    def test_5_admins_switch_to_every_owner(self):
        self.page.evaluate("sessionStorage.clear()")
        self.sign_in(ADMIN)
        self.page.wait_for("!document.getElementById('owner-switch').hidden", what="the owner switch")
        self.assertEqual(self.rows(), [])
        self.page.evaluate("document.getElementById('all-owners').click()")
        self.page.wait_for("document.querySelectorAll('#experiment-table tbody tr').length === 2",
                           what="every owner's experiments")
        self.assertEqual({r[1] for r in self.rows()}, {EMAIL})
        self.page.evaluate("[...document.querySelectorAll('#experiment-table tbody tr')]"
                           ".find(r => r.cells[0].textContent === 'pareto-demo').click()")
        self.page.wait_for("window.espDashboard && espDashboard.owner === " + repr(EMAIL)
                           + " && espDashboard.charts.length === 2", what="another owner's experiment")
        self.shot("admin")


if __name__ == "__main__":
    unittest.main()
