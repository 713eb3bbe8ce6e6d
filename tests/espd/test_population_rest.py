"""The population service over REST against the real espd: experiments, generation
operations (long-poll, cancel, idempotent resubmission), checkpoints as JSON and as
protobuf, pagination, ownership, validation errors; every answer is checked against
api/openapi.yaml."""
import base64
import json
import time
import unittest
import urllib.parse

import openapi_check
from espd import Espd
from sdk_codec import flat_weights as decode_weights
from httpjson import bearer, call
from population_stubs import population_structs_pb2 as structs

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
PASSWORD = "password-123"
USERS = {"writer@example.com": "esp:read esp:write", "other@example.com": "esp:read esp:write",
         "reader@example.com": "esp:read", "admin@example.com": "all:esp",
         "pager@example.com": "esp:read esp:write"}


def start_espd(*args):
    espd = Espd(*args, defer_start=True).__enter__()
    for email, scopes in USERS.items():
        added = espd.admin("users", "add", email, "--scopes", scopes, password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    espd.start()
    return espd


class RestClient:
    """Calls espd as one user and checks every answer against the spec."""

    def __init__(self, espd, email):
        self.espd = espd
        token = call(espd.url("/auth"), "POST", json_body={"email": email, "password": PASSWORD}).json()["token"]
        self.headers = bearer(token)

    def __call__(self, method, path, json_body=None, headers=None, raw_body=None, check=True):
        all_headers = dict(self.headers, **(headers or {}))
        if raw_body is not None:
            all_headers.setdefault("Content-Type", "application/json")
            answer = call(self.espd.url(path), method, headers=all_headers, form=raw_body)
        else:
            answer = call(self.espd.url(path), method, json_body=json_body, headers=all_headers, timeout=90)
        if check:
            openapi_check.check(method, path, answer)
        return answer


def evaluate(population):
    """Scores each candidate by the sum of its weights, as the client's predictor would."""
    return [{"id": c["id"], "metrics": {"score": sum(decode_weights(base64.b64decode(c["interpretation"]))[0])}}
            for c in population["population"]]


class PopulationRestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.espd = start_espd()
        cls.api = {email: RestClient(cls.espd, email) for email in USERS}
        cls.writer = cls.api["writer@example.com"]

    @classmethod
    def tearDownClass(cls):
        cls.espd.__exit__(None, None, None)

    def create(self, experiment_id, params=FIXTURE, client=None):
        answer = (client or self.writer)("POST", "/v1/experiments", {"id": experiment_id, "params": params})
        self.assertIn(answer.status, (200, 201), answer.body)
        return answer.json()

    def generation(self, experiment_id, body=None, client=None):
        answer = (client or self.writer)("POST", f"/v1/experiments/{experiment_id}/generations", body)
        self.assertEqual(answer.status, 202, answer.body)
        return answer.json()

    def wait(self, operation_id, seconds=60, client=None):
        answer = (client or self.writer)("GET", f"/v1/operations/{operation_id}?wait={seconds}")
        self.assertEqual(answer.status, 200, answer.body)
        return answer.json()

    def checkpoint(self, experiment_id, checkpoint_id, client=None, accept=None):
        path = f"/v1/experiments/{experiment_id}/checkpoints/{urllib.parse.quote(checkpoint_id, safe='')}"
        return (client or self.writer)("GET", path, headers={"Accept": accept} if accept else None)

    def assert_problem(self, answer, status, *paths):
        self.assertEqual(answer.status, status, answer.body)
        self.assertEqual(answer.header("Content-Type"), "application/problem+json")
        problem = answer.json()
        self.assertEqual(problem["status"], status)
        self.assertEqual([e["path"] for e in problem.get("errors", [])][:len(paths)], list(paths))
        return problem

    def test_seed_evaluate_next_generation_and_read_checkpoints(self):
        self.create("loop")
        seed_op = self.generation("loop")
        self.assertEqual(seed_op["experiment_id"], "loop")
        self.assertEqual(seed_op["stages"][0]["name"], "queued")
        done = self.wait(seed_op["id"])
        self.assertEqual(done["status"], "succeeded")
        self.assertEqual([s["name"] for s in done["stages"]], ["queued", "running", "succeeded"])
        self.assertEqual(done["result"]["generation"], 1)
        seed_id = done["result"]["checkpoint_id"]
        self.assertRegex(seed_id, r"^loop/1/\d{8}-\d{6}\.\d{3}-[\w-]{6}$")

        # Creating it again opens it as GET shows it, with its newest checkpoint.
        again = self.writer("POST", "/v1/experiments", {"id": "loop", "params": FIXTURE})
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual((again.json()["generation"], again.json()["latest_checkpoint"]), (1, seed_id))

        seed = self.checkpoint("loop", seed_id).json()
        self.assertEqual((seed["generation"], seed["checkpoint_id"]), (1, seed_id))
        self.assertEqual(len(seed["population"]), FIXTURE["evolution"]["population_size"])
        weights, layers = decode_weights(base64.b64decode(seed["population"][0]["interpretation"]))
        self.assertEqual((layers, len(weights)), (2, 4 * 16 + 16 + 16 * 2 + 2))
        self.assertEqual(seed["population"][0]["identity"]["origin"], "(none)")

        # The same population as the gRPC message, by Accept; the unescaped id works too.
        raw = self.writer("GET", f"/v1/experiments/loop/checkpoints/{seed_id}",
                          headers={"Accept": "application/x-protobuf"})
        self.assertEqual(raw.header("Content-Type"), "application/x-protobuf")
        message = structs.PopulationResponse.FromString(raw.body)
        self.assertEqual(message.checkpoint_id, seed_id)
        self.assertEqual([c.id for c in message.population], [c["id"] for c in seed["population"]])
        self.assertEqual([base64.b64encode(c.interpretation).decode() for c in message.population],
                         [c["interpretation"] for c in seed["population"]])

        metrics = evaluate(seed)
        scores = {m["id"]: m["metrics"]["score"] for m in metrics}
        best = sorted(scores, key=scores.get, reverse=True)[:FIXTURE["evolution"]["nb_elites"]]
        request = {"checkpoint_id": seed_id, "population": metrics}
        next_op = self.generation("loop", request)
        self.assertEqual(next_op["source_checkpoint"], seed_id)
        # Sending the same request again, while queued or after, names the same operation.
        self.assertEqual(self.generation("loop", request)["id"], next_op["id"])
        done = self.wait(next_op["id"])
        self.assertEqual((done["status"], done["result"]["generation"]), ("succeeded", 2))
        self.assertEqual(self.generation("loop", request)["id"], next_op["id"])

        second = self.checkpoint("loop", done["result"]["checkpoint_id"]).json()
        by_id = {c["id"]: c for c in seed["population"]}
        elites = {c["id"]: c for c in second["population"] if c["id"] in by_id}
        self.assertEqual(sorted(elites), sorted(best))
        self.assertEqual({e: elites[e]["metrics"]["score"] for e in elites}, {e: scores[e] for e in elites})
        for elite_id, elite in elites.items():
            self.assertEqual(elite["interpretation"], by_id[elite_id]["interpretation"])
        self.assertEqual(second["evaluation_stats"]["objectives"][0]["max"], max(scores.values()))

        listed = self.writer("GET", "/v1/experiments/loop/checkpoints").json()["checkpoints"]
        self.assertEqual([c["id"] for c in listed], [seed_id, done["result"]["checkpoint_id"]])
        self.assertEqual([c["operation"] for c in listed], [seed_op["id"], next_op["id"]])
        shown = self.writer("GET", "/v1/experiments/loop").json()
        self.assertEqual((shown["generation"], shown["latest_checkpoint"]), (2, done["result"]["checkpoint_id"]))

        # Evolution resumes from any checkpoint: the seed again, with other metrics.
        other = [dict(m, metrics={"score": -m["metrics"]["score"]}) for m in metrics]
        branch = self.wait(self.generation("loop", {"checkpoint_id": seed_id, "population": other})["id"])
        self.assertEqual(branch["result"]["generation"], 2)
        self.assertNotEqual(branch["result"]["checkpoint_id"], done["result"]["checkpoint_id"])

    def test_long_poll_answers_when_the_operation_ends(self):
        self.create("polled")
        operation = self.generation("polled")
        started = time.monotonic()
        done = self.wait(operation["id"], 60)
        self.assertEqual(done["status"], "succeeded")
        self.assertLess(time.monotonic() - started, 50, "the long-poll ran to its deadline")
        self.assertEqual(self.wait(operation["id"], 0)["status"], "succeeded")
        self.assert_problem(self.writer("GET", f"/v1/operations/{operation['id']}?wait=soon"), 400)
        self.assert_problem(self.writer("GET", f"/v1/operations/{operation['id']}?wait=-1"), 400)

    def test_statistics_and_operations_of_an_experiment(self):
        self.create("stats")
        told, operations = [], []
        population = None
        for _ in range(4):
            body = None
            if population:
                told.append([m["metrics"]["score"] for m in evaluate(population)])
                body = {"checkpoint_id": population["checkpoint_id"], "population": evaluate(population)}
            operations.append(self.generation("stats", body)["id"])
            done = self.wait(operations[-1])
            population = self.checkpoint("stats", done["result"]["checkpoint_id"]).json()
        stats = self.writer("GET", "/v1/experiments/stats/stats")
        self.assertEqual(stats.status, 200, stats.body)
        generations = stats.json()["generations"]
        # One entry per evaluated generation (the seed's checkpoint was bred from nothing).
        self.assertEqual([g["generation"] for g in generations], [1, 2, 3])
        for entry, scores in zip(generations, told):
            (objective,) = entry["objectives"]
            self.assertEqual((objective["metric"], objective["count"]), ("score", len(scores)))
            self.assertAlmostEqual(objective["max"], max(scores))
            self.assertAlmostEqual(objective["min"], min(scores))
            self.assertAlmostEqual(objective["mean"], sum(scores) / len(scores))
        self.assertTrue(generations[-1]["bred_checkpoint"].startswith("stats/4/"))
        self.assertEqual(self.api["other@example.com"]("GET", "/v1/experiments/stats/stats").status, 404)
        self.assertEqual(self.api["admin@example.com"](
            "GET", "/v1/experiments/stats/stats?owner=writer@example.com").json()["generations"], generations)

        # CMA-ES says what its strategy made of each generation (checked against the schema).
        cma = json.loads(json.dumps(FIXTURE))
        cma["evolution"]["algorithm"] = "cma_es"
        self.create("stats-cma", cma)
        sampled = None
        for _ in range(3):
            body = sampled and {"checkpoint_id": sampled["checkpoint_id"], "population": evaluate(sampled)}
            done = self.wait(self.generation("stats-cma", body)["id"])
            sampled = self.checkpoint("stats-cma", done["result"]["checkpoint_id"]).json()
        strategies = [g["strategy"] for g in self.writer("GET", "/v1/experiments/stats-cma/stats").json()["generations"]]
        self.assertEqual([(s["algorithm"], s["restarts"]) for s in strategies], [("cma_es", 0)] * 2)
        self.assertTrue(all(s["step_size"] > 0 and "restarted" not in s for s in strategies), strategies)
        self.assertEqual(sampled["evaluation_stats"]["strategy"], strategies[-1])

        # Operations, newest first, page by page, each with its stages.
        seen, token = [], None
        while True:
            page = self.writer("GET", "/v1/experiments/stats/operations?page_size=3"
                               + (f"&page_token={token}" if token else "")).json()
            seen += page["operations"]
            token = page.get("next_page_token")
            if not token:
                break
        self.assertEqual([o["id"] for o in seen], operations[::-1])
        self.assertTrue(all(o["status"] == "succeeded" and len(o["stages"]) == 3 for o in seen))
        self.assertEqual(self.api["other@example.com"]("GET", "/v1/experiments/stats/operations").status, 404)

        # Identity and metrics without the networks, for views that need no weights.
        light = self.writer("GET", f"/v1/experiments/stats/checkpoints/"
                            f"{urllib.parse.quote(population['checkpoint_id'], safe='')}?interpretations=false")
        self.assertEqual(light.status, 200, light.body)
        self.assertEqual([c["id"] for c in light.json()["population"]], [c["id"] for c in population["population"]])
        self.assertEqual({c["interpretation"] for c in light.json()["population"]}, {""})
        self.assertEqual(light.json()["evaluation_stats"], population["evaluation_stats"])
        self.assert_problem(self.writer("GET", f"/v1/experiments/stats/checkpoints/"
                                        f"{urllib.parse.quote(population['checkpoint_id'], safe='')}"
                                        "?interpretations=maybe"), 400, "interpretations")

    def test_cancelling_an_ended_operation_leaves_it_as_it_was(self):
        self.create("ended")
        done = self.wait(self.generation("ended")["id"])
        answer = self.writer("POST", f"/v1/operations/{done['id']}:cancel")
        self.assertEqual(answer.status, 200)
        self.assertEqual(answer.json()["status"], "succeeded")
        self.assert_problem(self.writer("POST", "/v1/operations/op_nosuch:cancel"), 404)

    def test_creating_experiments(self):
        created = self.writer("POST", "/v1/experiments", {"id": "created", "params": FIXTURE})
        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(created.header("Location"), "/v1/experiments/created")
        body = created.json()
        self.assertEqual((body["id"], body["owner"], body["params"], body["generation"]),
                         ("created", "writer@example.com", FIXTURE, 0))
        self.assertEqual(self.writer("POST", "/v1/experiments", {"id": "created", "params": FIXTURE}).status, 200)
        changed = json.loads(json.dumps(FIXTURE))
        changed["evolution"]["population_size"] = 30
        self.assert_problem(self.writer("POST", "/v1/experiments", {"id": "created", "params": changed}), 409)
        # The same id is free for another owner.
        self.assertEqual(self.api["other@example.com"]("POST", "/v1/experiments",
                                                      {"id": "created", "params": changed}).status, 201)

    def test_validation_errors_name_the_json_path_and_lose_nothing(self):
        bad = json.loads(json.dumps(FIXTURE))
        bad["evolution"]["population_size"] = 0
        problem = self.assert_problem(self.writer("POST", "/v1/experiments", {"id": "bad", "params": bad}), 400,
                                      "evolution.population_size")
        self.assertIn("must be >= 2", problem["errors"][0]["reason"])
        self.assert_problem(self.writer("POST", "/v1/experiments", {"id": "no/slash", "params": FIXTURE}), 400,
                            "experiment_id")
        self.assert_problem(self.writer("POST", "/v1/experiments", {"id": "x"}), 400, "params")
        self.assert_problem(self.writer("POST", "/v1/experiments", raw_body="{not json"), 400)
        self.assert_problem(self.writer("POST", "/v1/experiments", raw_body="[1, 2]"), 400, "id")
        self.assertEqual(self.writer("GET", "/v1/experiments/bad").status, 404)

        self.create("strict")
        seed_id = self.wait(self.generation("strict")["id"])["result"]["checkpoint_id"]
        seed = self.checkpoint("strict", seed_id).json()
        metrics = evaluate(seed)
        generations = "/v1/experiments/strict/generations"
        wrong = [dict(metrics[0], metrics={"score": "high"})] + metrics[1:]
        self.assert_problem(self.writer("POST", generations, {"checkpoint_id": seed_id, "population": wrong}),
                            400, "population[0].metrics.score")
        self.assert_problem(self.writer("POST", generations, {"population": metrics}), 400, "checkpoint_id")
        self.assert_problem(self.writer("POST", generations, {"checkpoint_id": seed_id, "population": {}}),
                            400, "population")
        self.assert_problem(self.writer("POST", generations, raw_body="{\"checkpoint_id\": "), 400)
        self.assert_problem(self.writer("POST", generations, raw_body="\"seed\""), 400, "$")
        unknown = self.assert_problem(self.writer("POST", generations, {
            "checkpoint_id": "strict/7/20260101-000000", "population": metrics}), 404)
        self.assertIn("strict/7/20260101-000000", unknown["detail"])
        other_net = json.loads(json.dumps(FIXTURE))
        other_net["network"]["hidden_layers"][0]["layer_params"]["units"] = 8
        self.assert_problem(self.writer("POST", generations, {
            "checkpoint_id": seed_id, "population": metrics, "params": other_net}), 409)
        self.assert_problem(self.writer("POST", "/v1/experiments/nosuch/generations", {}), 404)
        self.assert_problem(self.writer("GET", "/v1/experiments/strict/checkpoints?page_size=0"), 400)
        # Nothing was lost or added by the refused requests.
        listed = self.writer("GET", "/v1/experiments/strict/checkpoints").json()["checkpoints"]
        self.assertEqual([c["id"] for c in listed], [seed_id])
        self.assertEqual(self.checkpoint("strict", seed_id).json(), seed)

    def test_metrics_for_candidates_the_checkpoint_does_not_hold_fail_the_operation_saying_so(self):
        self.create("misnamed")
        seed_id = self.wait(self.generation("misnamed")["id"])["result"]["checkpoint_id"]
        metrics = evaluate(self.checkpoint("misnamed", seed_id).json())
        typo = [dict(metrics[0], id="1_999")] + metrics[1:]
        failed = self.wait(self.generation("misnamed", {"checkpoint_id": seed_id, "population": typo})["id"])
        self.assertEqual(failed["status"], "failed")
        self.assertEqual(failed["error"]["code"], "invalid_argument")
        self.assertIn(f"metrics name 1 candidates that checkpoint {seed_id} does not hold, e.g. '1_999'",
                      failed["error"]["message"])
        # Nothing was bred from the half-lost evaluation; the right ids breed as usual.
        listed = self.writer("GET", "/v1/experiments/misnamed/checkpoints").json()["checkpoints"]
        self.assertEqual([c["id"] for c in listed], [seed_id])
        bred = self.wait(self.generation("misnamed", {"checkpoint_id": seed_id, "population": metrics})["id"])
        self.assertEqual((bred["status"], bred["result"]["generation"]), ("succeeded", 2))

    def test_the_first_generation_request_creates_its_experiment_as_over_grpc(self):
        self.assert_problem(self.writer("POST", "/v1/experiments/on-the-fly/generations"), 404)
        operation = self.generation("on-the-fly", {"params": FIXTURE})
        self.assertEqual(self.wait(operation["id"])["result"]["generation"], 1)
        experiment = self.writer("GET", "/v1/experiments/on-the-fly").json()
        self.assertEqual((experiment["params"], experiment["generation"]), (FIXTURE, 1))
        # Invalid parameters create nothing, and say which value is wrong.
        bad = json.loads(json.dumps(FIXTURE))
        bad["evolution"]["population_size"] = 0
        self.assert_problem(self.writer("POST", "/v1/experiments/not-made/generations", {"params": bad}), 400,
                            "evolution.population_size")
        self.assertEqual(self.writer("GET", "/v1/experiments/not-made").status, 404)

    def test_tokens_and_scopes(self):
        no_token = call(self.espd.url("/v1/experiments"))
        openapi_check.check("GET", "/v1/experiments", no_token)
        self.assertEqual(no_token.status, 401)
        self.assertIn("Bearer", no_token.header("WWW-Authenticate"))
        reader = self.api["reader@example.com"]
        self.assert_problem(reader("POST", "/v1/experiments", {"id": "r", "params": FIXTURE}), 403)
        self.assertEqual(reader("GET", "/v1/experiments").status, 200)

    def test_other_owners_get_not_found_and_admins_read_everything(self):
        self.create("private")
        operation = self.wait(self.generation("private")["id"])
        checkpoint_id = operation["result"]["checkpoint_id"]
        other = self.api["other@example.com"]
        for method, path in [("GET", "/v1/experiments/private"),
                             ("GET", "/v1/experiments/private/checkpoints"),
                             ("GET", f"/v1/experiments/private/checkpoints/{checkpoint_id}"),
                             ("GET", f"/v1/operations/{operation['id']}"),
                             ("POST", f"/v1/operations/{operation['id']}:cancel"),
                             ("POST", "/v1/experiments/private/generations"),
                             ("DELETE", "/v1/experiments/private")]:
            self.assert_problem(other(method, path), 404)
        self.assert_problem(other("GET", "/v1/experiments/private?owner=writer@example.com"), 403)
        self.assert_problem(other("GET", "/v1/experiments?all=true"), 403)

        admin = self.api["admin@example.com"]
        self.assert_problem(admin("GET", "/v1/experiments/private"), 404)  # its own: none
        owner = "?owner=writer%40example.com"
        self.assertEqual(admin("GET", f"/v1/experiments/private{owner}").json()["owner"], "writer@example.com")
        self.assertEqual(len(admin("GET", f"/v1/experiments/private/checkpoints{owner}").json()["checkpoints"]), 1)
        self.assertEqual(admin("GET", f"/v1/experiments/private/checkpoints/{checkpoint_id}{owner}").status, 200)
        self.assertEqual(admin("GET", f"/v1/operations/{operation['id']}").json()["status"], "succeeded")
        everyone = admin("GET", "/v1/experiments?all=true&page_size=500").json()["experiments"]
        self.assertIn(("writer@example.com", "private"), [(e["owner"], e["id"]) for e in everyone])

    def test_pagination_walks_every_experiment_once_in_creation_order(self):
        pager = self.api["pager@example.com"]
        names = [f"page-{i}" for i in range(5)]
        for name in names:
            self.create(name, client=pager)
        seen, token, pages = [], None, 0
        while True:
            query = "?page_size=2" + (f"&page_token={token}" if token else "")
            page = pager("GET", "/v1/experiments" + query).json()
            seen += [e["id"] for e in page["experiments"]]
            pages += 1
            token = page.get("next_page_token")
            if not token:
                break
        self.assertEqual((seen, pages), (names, 3))
        self.assert_problem(pager("GET", "/v1/experiments?page_token=garbage"), 400)
        self.assert_problem(pager("GET", "/v1/experiments?page_size=501"), 400)

    def test_deleting_an_experiment_removes_its_checkpoints_and_operations(self):
        self.create("doomed")
        operation = self.wait(self.generation("doomed")["id"])
        checkpoint_id = operation["result"]["checkpoint_id"]
        self.assertEqual(self.writer("DELETE", "/v1/experiments/doomed").status, 204)
        for path in ["/v1/experiments/doomed", "/v1/experiments/doomed/checkpoints",
                     f"/v1/experiments/doomed/checkpoints/{checkpoint_id}", f"/v1/operations/{operation['id']}"]:
            self.assert_problem(self.writer("GET", path), 404)
        self.assert_problem(self.writer("DELETE", "/v1/experiments/doomed"), 404)
        # The id can be used afresh.
        self.create("doomed")
        self.assertEqual(self.wait(self.generation("doomed")["id"])["result"]["generation"], 1)

    def test_docs_are_served_without_a_token(self):
        spec = call(self.espd.url("/openapi.json"))
        self.assertEqual(spec.status, 200)
        self.assertEqual(spec.json(), openapi_check.SPEC)
        page = call(self.espd.url("/ui/"))
        self.assertEqual(page.status, 200)
        self.assertIn(b"swagger-ui-bundle.js", page.body)
        self.assertEqual(call(self.espd.url("/ui/swagger-ui-bundle.js")).status, 200)
        self.assertEqual(call(self.espd.url("/ui/..%2Fesp.db")).status, 404)



class QueuedOperationsTest(unittest.TestCase):
    """An API-only replica (--workers 0) queues jobs without running them, so queued
    operations can be observed and cancelled; a replica with workers then runs them."""

    def test_cancel_a_queued_operation_then_resubmit_it(self):
        espd = start_espd("--workers", "0")
        try:
            writer = RestClient(espd, "writer@example.com")
            self.assertEqual(writer("POST", "/v1/experiments", {"id": "queued", "params": FIXTURE}).status, 201)
            operation = writer("POST", "/v1/experiments/queued/generations").json()
            started = time.monotonic()
            still = writer("GET", f"/v1/operations/{operation['id']}?wait=1").json()
            self.assertGreaterEqual(time.monotonic() - started, 0.9, "answered before the wait was over")
            self.assertEqual(still["status"], "queued")

            cancelled = writer("POST", f"/v1/operations/{operation['id']}:cancel").json()
            self.assertEqual(cancelled["status"], "cancelled")
            self.assertEqual([s["name"] for s in cancelled["stages"]], ["queued", "cancelled"])
            self.assertEqual(writer("POST", f"/v1/operations/{operation['id']}:cancel").json()["status"],
                             "cancelled")

            espd.stop()
            espd.args = ["--workers", "1"]
            espd.start()
            writer = RestClient(espd, "writer@example.com")
            self.assertEqual(writer("GET", f"/v1/operations/{operation['id']}?wait=2").json()["status"],
                             "cancelled")
            again = writer("POST", "/v1/experiments/queued/generations").json()
            self.assertEqual(again["id"], operation["id"])
            done = writer("GET", f"/v1/operations/{operation['id']}?wait=60").json()
            self.assertEqual((done["status"], done["result"]["generation"]), ("succeeded", 1))
        finally:
            espd.__exit__(None, None, None)


def tearDownModule():
    missing = openapi_check.operations("/v1") - openapi_check.checked
    if missing:
        raise AssertionError(f"documented operations no test exercised: {sorted(missing)}")


if __name__ == "__main__":
    unittest.main()
