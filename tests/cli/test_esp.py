"""The `esp` command-line client against a real espd: tokens (login, client
credentials, the 0600 cache), next-population and get-population as the original
client printed them, experiments and operations, `run` in every built-in domain to
its stated threshold, resuming after the client is killed, and every error path as
one line on stderr with a non-zero exit code."""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import unittest

from certificates import self_signed_certificate
from espd import Espd, free_port
from httpjson import bearer, call

ESP = os.environ.get("ESP_CLI_BINARY", "build/debug/esp")
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
PASSWORD = "password-123"


class EspClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Fixed ports: the token cache is per server URL, and one test restarts espd.
        cls.espd = Espd(ports=(free_port(), free_port()), defer_start=True).__enter__()
        added = cls.espd.admin("users", "add", "cli@example.com", "--scopes", "esp:read esp:write",
                               password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        client = cls.espd.admin("clients", "add", "robot", "--scopes", "esp:read esp:write")
        assert client.returncode == 0, client.stderr
        cls.client_id = re.search(r"client_id=(\S+)", client.stdout + client.stderr).group(1)
        cls.client_secret = re.search(r"client_secret=(\S+)", client.stdout + client.stderr).group(1)
        cls.espd.start()
        cls.home = tempfile.mkdtemp(prefix="esp-cli-home-")
        cls.work = tempfile.mkdtemp(prefix="esp-cli-work-")
        login = cls.esp("login", "--email", "cli@example.com", input=PASSWORD + "\n")
        assert login.returncode == 0, login.stderr

    @classmethod
    def tearDownClass(cls):
        cls.espd.__exit__(None, None, None)
        shutil.rmtree(cls.home, ignore_errors=True)
        shutil.rmtree(cls.work, ignore_errors=True)

    @classmethod
    def esp(cls, *args, input=None, env=None, port=None):
        command = [ESP, "--url", cls.espd.url(""), "--port", str(port or cls.espd.grpc_port), *args]
        environment = dict(os.environ)
        environment.pop("ESP_TOKEN", None)
        environment.update({"HOME": cls.home, "XDG_CONFIG_HOME": os.path.join(cls.home, ".config"), **(env or {})})
        return subprocess.run(command, input=input, capture_output=True, text=True, env=environment,
                              cwd=cls.work, timeout=300)

    def assert_one_line_error(self, answer, *fragments):
        self.assertNotEqual(answer.returncode, 0, answer.stdout)
        lines = answer.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, answer.stderr)
        self.assertTrue(lines[0].startswith("esp: "), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def test_connection_options_may_follow_the_subcommand(self):
        environment = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        environment.pop("ESP_TOKEN", None)
        after = subprocess.run([ESP, "experiments", "list", "--url", self.espd.url(""),
                                "--port", str(self.espd.grpc_port)],
                               capture_output=True, text=True, env=environment, cwd=self.work, timeout=60)
        self.assertEqual(after.returncode, 0, after.stderr)

    def test_login_caches_the_token_for_the_user_only(self):
        cache = os.path.join(self.home, ".config", "esp", "tokens.json")
        self.assertEqual(stat.S_IMODE(os.stat(cache).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(cache)).st_mode), 0o700)
        entry = json.load(open(cache))[self.espd.url("")]
        self.assertEqual(entry["access_token"].count("."), 2)
        wrong = self.esp("login", "--email", "cli@example.com", input="not-the-password\n")
        self.assert_one_line_error(wrong, "refused")
        self.assertEqual(json.load(open(cache))[self.espd.url("")], entry)  # the good token stays

    def test_client_credentials_token(self):
        with tempfile.TemporaryDirectory() as home:
            env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "cfg")}
            got = self.esp("token", "--client-id", self.client_id, "--client-secret", self.client_secret,
                           "--token-url", self.espd.url("/oauth/token"), "--audience", "esp", "--print", env=env)
            self.assertEqual(got.returncode, 0, got.stderr)
            self.assertEqual(got.stdout.strip().count("."), 2)
            listed = self.esp("experiments", "list", env=env)
            self.assertEqual(listed.returncode, 0, listed.stderr)
            self.assert_one_line_error(self.esp("token", "--client-id", self.client_id, "--client-secret", "wrong",
                                                env=env), "refused")
        # ESP_TOKEN works without any cache.
        with tempfile.TemporaryDirectory() as home:
            env = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "cfg"), "ESP_TOKEN": got.stdout.strip()}
            self.assertEqual(self.esp("experiments", "list", env=env).returncode, 0)

    def test_next_population_prints_as_the_original_client_and_round_trips(self):
        first = self.esp("next-population", "--version", "v1", "--experiment-id", "abc123",
                         "--experiment-params-file", os.path.join(EXAMPLES, "function.json"),
                         "--output", "seed.json")
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertRegex(first.stdout, r"^individuals:60\ngeneration:1\ncheckpoint_id:abc123/1/\d{8}-\d{6}\.\d{3}-[\w-]{6}\n$")
        checkpoint = first.stdout.strip().rsplit("checkpoint_id:", 1)[1]
        seed = json.load(open(os.path.join(self.work, "seed.json")))
        self.assertEqual((seed["checkpoint_id"], len(seed["population"])), (checkpoint, 60))

        again = self.esp("get-population", "--experiment-id", "abc123", "--checkpoint-id", checkpoint,
                         "--output", "again.json")
        self.assertEqual(again.stdout, first.stdout)
        self.assertEqual(json.load(open(os.path.join(self.work, "again.json"))), seed)

        for i, candidate in enumerate(seed["population"]):
            candidate["metrics"] = {"score": float(i)}
        json.dump(seed, open(os.path.join(self.work, "evaluated.json"), "w"))
        second = self.esp("next-population", "--experiment-id", "abc123",
                          "--experiment-params-file", os.path.join(EXAMPLES, "function.json"),
                          "--evaluated-population", "evaluated.json")
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertRegex(second.stdout, r"^individuals:60\ngeneration:2\ncheckpoint_id:abc123/2/")

        shown = json.loads(self.esp("experiments", "show", "abc123").stdout)
        self.assertEqual(shown["generation"], 2)
        self.assertIn("abc123", self.esp("experiments", "list").stdout.split())

    def test_run_reaches_each_domains_threshold(self):
        thresholds = {"function": 0.99, "pareto": 0.9, "cartpole": 195}
        listed = self.esp("run", "--list-domains").stdout
        for domain, threshold in thresholds.items():
            self.assertIn(domain, listed)
            with self.subTest(domain=domain):
                out = f"run-{domain}"
                answer = self.esp("run", os.path.join(EXAMPLES, f"{domain}.json"), "--domain", domain,
                                  "--output-dir", out)
                self.assertEqual(answer.returncode, 0, answer.stderr)
                self.assertNotIn("\r", answer.stdout)  # not a terminal: plain lines
                generations = json.load(open(os.path.join(EXAMPLES, f"{domain}.json")))["evolution"]["nb_generations"]
                self.assertEqual(len(re.findall(r"^generation \d+/\d+ checkpoint=", answer.stdout, re.M)),
                                 generations)
                summary = json.load(open(os.path.join(self.work, out, "summary.json")))
                self.assertTrue(summary["validation"]["met"], summary)
                self.assertGreaterEqual(summary["validation"]["value"], threshold)
                rows = open(os.path.join(self.work, out, "stats.csv")).read().splitlines()
                self.assertEqual(len(rows), generations + 1)
                with open(os.path.join(self.work, out, "fitness.svg")) as f:
                    svg = f.read()
                self.assertTrue(svg.startswith("<svg") and svg.rstrip().endswith("</svg>"))
                if domain == "pareto":
                    self.assertIn("Pareto front", svg)

    def test_run_knows_the_benchmark_domains(self):
        listed = self.esp("run", "--list-domains").stdout
        function = json.load(open(os.path.join(EXAMPLES, "function.json")))
        function["evolution"]["fitness"] = [{"metric_name": "f", "maximize": False}]
        functions = os.path.join(self.work, "functions.json")
        with open(functions, "w") as f:
            json.dump(function, f)
        cases = {"double-pole": (os.path.join(EXAMPLES, "double-pole.json"), "steps"),
                 "double-pole-nv": (os.path.join(EXAMPLES, "double-pole-nv.json"), "fitness"),
                 "sphere": (functions, "f"), "rosenbrock": (functions, "f"), "rastrigin": (functions, "f")}
        for domain, (params, metric) in cases.items():
            self.assertIn(domain, listed)
            with self.subTest(domain=domain):
                out = f"run-{domain}"
                answer = self.esp("run", params, "--domain", domain, "--generations", "2", "--output-dir", out)
                self.assertEqual(answer.returncode, 0, answer.stderr)
                rows = open(os.path.join(self.work, out, "stats.csv")).read().splitlines()
                self.assertEqual(len(rows), 3)
                self.assertIn(metric, rows[0])
                summary = json.load(open(os.path.join(self.work, out, "summary.json")))
                self.assertIn(metric, summary["best_metrics"])
                self.assertTrue(summary["validation"]["measure"])

    def test_run_stops_early_once_the_target_is_reached(self):
        params = json.load(open(os.path.join(EXAMPLES, "function.json")))
        params["evolution"]["early_stop"] = True
        params["evolution"]["fitness"][0]["target"] = 0.5  # reached within a few generations
        path = os.path.join(self.work, "early.json")
        with open(path, "w") as f:
            json.dump(params, f)
        answer = self.esp("run", path, "--domain", "function", "--output-dir", "run-early",
                          "--experiment-id", "early")
        self.assertEqual(answer.returncode, 0, answer.stderr)
        self.assertIn("target reached: stopping early (early_stop)", answer.stdout)
        generations = len(re.findall(r"^generation \d+/\d+ checkpoint=", answer.stdout, re.M))
        self.assertLess(generations, params["evolution"]["nb_generations"])
        summary = json.load(open(os.path.join(self.work, "run-early", "summary.json")))
        self.assertGreaterEqual(summary["best_metrics"]["score"], 0.5)

    def test_run_stops_at_an_evaluation_budget_and_reports_its_evaluations(self):
        # function.json breeds 60 candidates a generation: 150 evaluations end after the third.
        answer = self.esp("run", os.path.join(EXAMPLES, "function.json"), "--domain", "function",
                          "--output-dir", "run-budget", "--max-evaluations", "150")
        self.assertEqual(answer.returncode, 0, answer.stderr)
        self.assertIn("180 candidates evaluated: stopping (--max-evaluations)", answer.stdout)
        self.assertEqual(len(re.findall(r"^generation \d+/\d+ checkpoint=", answer.stdout, re.M)), 3)
        summary = json.load(open(os.path.join(self.work, "run-budget", "summary.json")))
        self.assertEqual((summary["generation"], summary["evaluations"]), (3, 180))

    def test_run_solves_double_pole_with_cma_es_restarts(self):
        # The linear controller: a run of seed 15 stalls and restarts with 18 candidates.
        params = json.load(open(os.path.join(EXAMPLES, "double-pole-cma-es.json")))
        params["evolution"]["seed"] = 15
        path = os.path.join(self.work, "double-pole-cma-es.json")
        with open(path, "w") as f:
            json.dump(params, f)
        answer = self.esp("run", path, "--domain", "double-pole", "--output-dir", "run-cma")
        self.assertEqual(answer.returncode, 0, answer.stderr)
        self.assertIn("target reached: stopping early (early_stop)", answer.stdout)
        sizes = [int(n) for n in re.findall(r"^generation \d+/\d+ checkpoint=\S+ candidates=(\d+)",
                                            answer.stdout, re.M)]
        self.assertEqual(sizes[0], 9)  # 4 + floor(3 ln 6)
        self.assertIn(18, sizes)
        summary = json.load(open(os.path.join(self.work, "run-cma", "summary.json")))
        self.assertTrue(summary["validation"]["met"], summary)
        self.assertEqual(summary["evaluations"], sum(sizes))

    def test_a_terminal_gets_one_redrawn_progress_bar(self):
        """Under a pseudo-terminal (util-linux `script`), progress redraws one line."""
        command = " ".join([ESP, "--url", self.espd.url(""), "--port", str(self.espd.grpc_port), "run",
                            os.path.join(EXAMPLES, "pareto.json"), "--domain", "pareto",
                            "--output-dir", "run-tty"])
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        answer = subprocess.run(["script", "-qefc", command, "/dev/null"], capture_output=True,
                                env=env, cwd=self.work, timeout=300)
        output = answer.stdout.decode()  # bytes: text mode would turn each \r into a newline
        self.assertEqual(answer.returncode, 0, output)
        self.assertGreaterEqual(output.count("\r\033[K["), 25)
        self.assertRegex(output, r"\[#+\] gen 25/25 f1 best=\S+ mean=\S+ f2 best=\S+ mean=\S+ ETA 0s")
        self.assertNotIn("generation 1/25 checkpoint=", output)

    def test_resume_after_the_client_is_killed(self):
        params = os.path.join(EXAMPLES, "function.json")
        command = [ESP, "--url", self.espd.url(""), "--port", str(self.espd.grpc_port), "run", params,
                   "--domain", "function", "--generations", "100000", "--experiment-id", "killed",
                   "--output-dir", "run-killed"]
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, ".config"))
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=self.work)
        last = None
        for line in process.stdout:
            last = re.search(r"^generation (\d+)/\d+ checkpoint=(\S+)", line)
            if last and int(last.group(1)) >= 5:
                break
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        self.assertIsNotNone(last)
        killed_at, checkpoint = int(last.group(1)), last.group(2)
        resumed = self.esp("run", params, "--domain", "function", "--resume", checkpoint,
                           "--generations", str(killed_at + 3), "--output-dir", "run-killed")
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn(f"finished at generation {killed_at + 3}", resumed.stdout)
        generations = [int(row.split(",")[0]) for row in
                       open(os.path.join(self.work, "run-killed", "stats.csv")).read().splitlines()[1:]]
        self.assertEqual(generations[:killed_at + 3], list(range(1, killed_at + 4)))

    def test_experiments_and_operations(self):
        self.assertEqual(self.esp("next-population", "--experiment-id", "ops", "--experiment-params-file",
                                  os.path.join(EXAMPLES, "cartpole.json")).returncode, 0)
        token = json.load(open(os.path.join(self.home, ".config", "esp", "tokens.json")))[self.espd.url("")]
        operation = call(self.espd.url("/v1/experiments/ops/generations"), "POST",
                         headers=bearer(token["access_token"])).json()
        waited = self.esp("operations", "wait", operation["id"])
        self.assertEqual(waited.returncode, 0, waited.stderr)
        self.assertEqual(json.loads(waited.stdout)["status"], "succeeded")
        shown = json.loads(self.esp("operations", "show", operation["id"]).stdout)
        self.assertEqual(shown["result"]["generation"], 1)
        cancelled = json.loads(self.esp("operations", "cancel", operation["id"]).stdout)
        self.assertEqual(cancelled["status"], "succeeded")  # it had ended: it stays as it was
        self.assertEqual(self.esp("experiments", "delete", "ops").returncode, 0)
        self.assert_one_line_error(self.esp("experiments", "show", "ops"), "not found")
        self.assert_one_line_error(self.esp("operations", "show", "op_missing"), "not found")
        self.assert_one_line_error(self.esp("operations", "wait", "op_missing"), "not found")

    def test_errors_are_one_line_with_what_to_do(self):
        params = os.path.join(EXAMPLES, "function.json")
        unreachable = self.esp("next-population", "--experiment-id", "x", "--experiment-params-file", params,
                               port=free_port())
        self.assert_one_line_error(unreachable, "cannot reach espd")

        refused = self.esp("--token", "not.a.token", "next-population", "--experiment-id", "x",
                           "--experiment-params-file", params)
        self.assert_one_line_error(refused, "refused the token", "esp login --email")

        with tempfile.TemporaryDirectory() as home:
            cache = os.path.join(home, "cfg", "esp")
            os.makedirs(cache)
            json.dump({self.espd.url(""): {"access_token": "a.b.c", "expires_at": 1000}},
                      open(os.path.join(cache, "tokens.json"), "w"))
            expired = self.esp("experiments", "list", env={"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "cfg")})
            self.assert_one_line_error(expired, "expired", "esp login --email")

        bad = json.load(open(params))
        bad["evolution"]["population_size"] = 0
        json.dump(bad, open(os.path.join(self.work, "bad.json"), "w"))
        invalid = self.esp("next-population", "--experiment-id", "bad", "--experiment-params-file", "bad.json")
        self.assert_one_line_error(invalid, "invalid parameters", "evolution.population_size: must be >= 2")

        self.assert_one_line_error(self.esp("run", params, "--domain", "nosuch"), "no domain named nosuch")
        self.assert_one_line_error(self.esp("run", params, "--domain", "cartpole"),
                                   "cartpole domain needs 4 context inputs and 2 outputs")

    def test_a_failed_operation_is_reported(self):
        """The source checkpoint's payload vanishes (a broken disk): the next generation fails."""
        params = os.path.join(EXAMPLES, "function.json")
        seed = self.esp("next-population", "--experiment-id", "doomed", "--experiment-params-file", params,
                        "--output", "doomed.json")
        self.assertEqual(seed.returncode, 0, seed.stderr)
        self.espd.stop()
        for folder, _, files in os.walk(os.path.join(self.espd.data_dir.name, "blobs", "checkpoints")):
            for name in files:
                os.remove(os.path.join(folder, name))
        self.espd.start()  # same ports: the client's --url and --port stay valid
        population = json.load(open(os.path.join(self.work, "doomed.json")))
        for candidate in population["population"]:
            candidate["metrics"] = {"score": 1.0}
        json.dump(population, open(os.path.join(self.work, "doomed-evaluated.json"), "w"))
        failed = self.esp("next-population", "--experiment-id", "doomed", "--experiment-params-file", params,
                          "--evaluated-population", "doomed-evaluated.json")
        self.assert_one_line_error(failed, "operation failed")


class TlsClientTest(unittest.TestCase):
    def test_tls_with_a_ca_file_and_a_host_override(self):
        with tempfile.TemporaryDirectory() as folder:
            cert, key = self_signed_certificate(folder, "esp.example.test")
            with Espd("--grpc-tls-cert", cert, "--grpc-tls-key", key, defer_start=True) as espd:
                espd.admin("users", "add", "tls@example.com", password=PASSWORD + "\n")
                espd.start()
                env = dict(os.environ, HOME=folder, XDG_CONFIG_HOME=os.path.join(folder, "cfg"))
                base = [ESP, "--url", espd.url(""), "--port", str(espd.grpc_port)]
                login = subprocess.run(base + ["login", "--email", "tls@example.com"], input=PASSWORD + "\n",
                                       capture_output=True, text=True, env=env, timeout=60)
                self.assertEqual(login.returncode, 0, login.stderr)
                params = os.path.join(EXAMPLES, "function.json")
                tls = base + ["--tls", "--ca-file", cert, "--ssl-host-override", "esp.example.test"]
                answer = subprocess.run(tls + ["next-population", "--experiment-id", "tls",
                                               "--experiment-params-file", params],
                                        capture_output=True, text=True, env=env, timeout=120)
                self.assertEqual(answer.returncode, 0, answer.stderr)
                self.assertIn("generation:1", answer.stdout)
                plain = subprocess.run(base + ["next-population", "--experiment-id", "tls",
                                               "--experiment-params-file", params],
                                       capture_output=True, text=True, env=env, timeout=120)
                self.assertNotEqual(plain.returncode, 0)
                self.assertIn("cannot reach espd", plain.stderr)

                # The ESP SDK test client's own command line, as its README writes it (the
                # certificate's root comes from gRPC's standard variable, not the command).
                token = call(espd.url("/auth"), "POST",
                             json_body={"email": "tls@example.com", "password": PASSWORD}).json()["token"]
                seed = subprocess.run(
                    [ESP, "--host=127.0.0.1", f"--port={espd.grpc_port}", "--ssl_host_override=esp.example.test",
                     f"--auth0_token={token}", "next-population", "--version=v1", "--experiment_id=sdk-style",
                     f"--experiment_params_file={params}"],
                    capture_output=True, text=True, timeout=120,
                    env=dict(os.environ, HOME=folder, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH=cert))
                self.assertEqual(seed.returncode, 0, seed.stderr)
                self.assertIn("generation:1", seed.stdout)


if __name__ == "__main__":
    unittest.main()
