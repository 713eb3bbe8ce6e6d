"""The ESP SDK's loop over gRPC against the real espd: seed, evaluate, next
generation, get a checkpoint again; and the errors SDK clients rely on."""
import json
import random
import unittest

import grpc

from espd import Espd
from sdk_codec import flat_weights as decode_weights
from httpjson import call
from population_stubs import population_service_pb2_grpc as service
from population_stubs import population_structs_pb2 as structs

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))
MOO = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment-moo.json"))


class PopulationGrpcTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.espd = Espd(defer_start=True).__enter__()
        for email, scopes in [("writer@example.com", "esp:read esp:write"), ("reader@example.com", "esp:read"),
                              ("other@example.com", "all:esp")]:
            added = cls.espd.admin("users", "add", email, "--scopes", scopes, password="password-123\n")
            assert added.returncode == 0, added.stderr
        cls.espd.start()
        cls.tokens = {}
        for email in ("writer@example.com", "reader@example.com", "other@example.com"):
            answer = call(cls.espd.url("/auth"), "POST", json_body={"email": email, "password": "password-123"})
            cls.tokens[email] = answer.json()["token"]
        cls.channel = grpc.insecure_channel(f"127.0.0.1:{cls.espd.grpc_port}")
        cls.stub = service.PopulationServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.espd.__exit__(None, None, None)

    def metadata(self, email="writer@example.com"):
        return [("authorization", f"Bearer {self.tokens[email]}")]

    def next_population(self, experiment_id, evaluated=None, config=FIXTURE, email="writer@example.com"):
        request = structs.PopulationRequest(version="v1", experiment_id=experiment_id,
                                            config=json.dumps(config).encode())
        if evaluated is not None:
            request.evaluated_population_response.CopyFrom(evaluated)
        return self.stub.NextPopulation(request, metadata=self.metadata(email), timeout=60)

    def evaluate(self, population):
        evaluated = structs.PopulationResponse()
        evaluated.CopyFrom(population)
        evaluated.evaluation_stats = b""  # as SDK clients do
        for candidate in evaluated.population:
            weights, _ = decode_weights(candidate.interpretation)
            candidate.metrics = json.dumps({"score": sum(weights)}).encode()
        return evaluated

    def test_seed_evaluate_next_and_get_again(self):
        seed = self.next_population("loop")
        self.assertEqual(seed.generation_count, 1)
        self.assertEqual(len(seed.population), 20)
        self.assertRegex(seed.checkpoint_id, r"^loop/1/\d{8}-\d{6}\.\d{3}-[\w-]{6}$")
        weights, layers = decode_weights(seed.population[0].interpretation)
        self.assertEqual(layers, 2)
        self.assertEqual(len(weights), 4 * 16 + 16 + 16 * 2 + 2)
        self.assertEqual(json.loads(seed.population[0].identity)["origin"], "(none)")
        self.assertEqual([c.id for c in seed.population][:2], ["1_1", "1_2"])  # numbered from 1
        self.assertEqual(seed.evaluation_stats, b"")  # none on the seed answer, as the original

        evaluated = self.evaluate(seed)
        scores = {c.id: json.loads(c.metrics)["score"] for c in evaluated.population}
        best = sorted(scores, key=scores.get, reverse=True)[:2]
        second = self.next_population("loop", evaluated)
        self.assertEqual(second.generation_count, 2)
        self.assertEqual(len(second.population), 20)
        self.assertRegex(second.checkpoint_id, r"^loop/2/")
        by_id = {c.id: c for c in seed.population}
        # Elites keep id, identity, interpretation and the metrics they were evaluated with.
        elites = [c for c in second.population if c.id in by_id]
        self.assertEqual(sorted(c.id for c in elites), sorted(best))
        for elite in elites:
            self.assertEqual(elite.interpretation, by_id[elite.id].interpretation)
            self.assertEqual(elite.identity, by_id[elite.id].identity)
            self.assertEqual(json.loads(elite.metrics), {"score": scores[elite.id]})
        children = [c for c in second.population if c.id not in by_id]
        for child in children:
            identity = json.loads(child.identity)
            self.assertEqual(child.metrics, b"")
            self.assertEqual((identity["unique_id"], identity["birth_generation"]), (child.id, 2))
            self.assertEqual(identity["experiment_version"], "loop")
            self.assertTrue(all(parent in by_id for parent in identity["ancestor_ids"]))
            self.assertEqual(identity["ancestor_count"], 1)
            self.assertRegex(identity["origin"], r"^1_\d+~CUW~1_\d+#MGNP$")
        stats = json.loads(second.evaluation_stats)
        self.assertEqual(stats["objectives"][0]["max"], max(scores.values()))
        # What the SDK's loop reads without checking: every evaluated candidate's metrics.
        self.assertEqual(set(stats["server_metrics"]), set(by_id))
        for candidate_id, entry in stats["server_metrics"].items():
            self.assertEqual(entry["score"], scores[candidate_id])
            self.assertEqual(entry["is_elite"], candidate_id in best)

        again = self.stub.GetPopulation(structs.ExistingPopulationRequest(
            version="v1", experiment_id="loop", checkpoint_id=second.checkpoint_id),
            metadata=self.metadata(), timeout=30)
        self.assertEqual(again, second)

        # Resuming from any checkpoint works, and resending a request returns the same generation.
        third = self.next_population("loop", self.evaluate(second))
        resent = self.next_population("loop", self.evaluate(second))
        self.assertEqual(third.checkpoint_id, resent.checkpoint_id)
        self.assertEqual(third, resent)

    def test_several_objectives_report_each_candidates_nsga2_rank_and_crowding(self):
        seed = self.next_population("moo", config=MOO)
        evaluated = structs.PopulationResponse()
        evaluated.CopyFrom(seed)
        rng = random.Random(7)
        for candidate in evaluated.population:
            candidate.metrics = json.dumps({"reward": rng.random(), "cost": rng.random()}).encode()
        second = self.next_population("moo", evaluated, config=MOO)
        server_metrics = json.loads(second.evaluation_stats)["server_metrics"]
        self.assertEqual(len(server_metrics), len(seed.population))
        points = {c.id: json.loads(c.metrics) for c in evaluated.population}
        first_front = {i for i, entry in server_metrics.items() if entry["NSGA-II_rank"] == 0}
        # The first front is exactly the candidates no other candidate dominates.
        def dominated(a):
            return any(b["reward"] >= a["reward"] and b["cost"] <= a["cost"] and b != a for b in points.values())
        self.assertEqual(first_front, {i for i, p in points.items() if not dominated(p)})
        for entry in server_metrics.values():
            self.assertGreaterEqual(entry["NSGA-II_crowding_distance"], 0)
        self.assertEqual(sum(entry["is_elite"] for entry in server_metrics.values()), MOO["evolution"]["nb_elites"])

    def assert_code(self, code, action):
        with self.assertRaises(grpc.RpcError) as raised:
            action()
        self.assertEqual(raised.exception.code(), code, raised.exception.details())
        return raised.exception.details()

    def test_authentication_and_scopes(self):
        request = structs.PopulationRequest(experiment_id="auth", config=json.dumps(FIXTURE).encode())
        self.assert_code(grpc.StatusCode.UNAUTHENTICATED, lambda: self.stub.NextPopulation(request, timeout=30))
        self.assert_code(grpc.StatusCode.UNAUTHENTICATED, lambda: self.stub.NextPopulation(
            request, metadata=[("authorization", "Bearer not.a.token")], timeout=30))
        self.assert_code(grpc.StatusCode.PERMISSION_DENIED, lambda: self.next_population(
            "auth", email="reader@example.com"))
        line = self.espd.wait_for_log(lambda l: l.get("msg") == "grpc_call" and l.get("code") == 7
                                      and l.get("experiment") == "auth")
        self.assertEqual(line["method"], "NextPopulation")
        self.assertEqual(line["subject"], "reader@example.com")
        self.assertEqual(line["experiment"], "auth")

    def test_parameter_errors(self):
        details = self.assert_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.stub.NextPopulation(
            structs.PopulationRequest(experiment_id="x"), metadata=self.metadata(), timeout=30))
        self.assertEqual(details, "No experiment params supplied")
        bad = json.loads(json.dumps(FIXTURE))
        bad["evolution"]["population_size"] = 0
        details = self.assert_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.next_population("bad", config=bad))
        self.assertIn("Path: evolution.population_size\nError: must be >= 2, got 0", details)
        self.assert_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: self.next_population("no/slashes"))

    def test_unknown_checkpoints_and_other_users(self):
        seed = self.next_population("mine")
        evaluated = self.evaluate(seed)
        evaluated.checkpoint_id = "mine/9/20260101-000000"
        details = self.assert_code(grpc.StatusCode.NOT_FOUND, lambda: self.next_population("mine", evaluated))
        self.assertIn("mine", details)
        self.assertIn("mine/9/20260101-000000", details)
        # Another user sees no such checkpoint, even with the id.
        self.assert_code(grpc.StatusCode.NOT_FOUND, lambda: self.stub.GetPopulation(
            structs.ExistingPopulationRequest(experiment_id="mine", checkpoint_id=seed.checkpoint_id),
            metadata=self.metadata("other@example.com"), timeout=30))

    def test_an_admin_reads_another_owners_checkpoint_by_naming_the_owner(self):
        """The ownership rule REST's ?owner= follows: only esp:admin callers may name another owner."""
        seed = self.next_population("theirs")
        request = structs.ExistingPopulationRequest(experiment_id="theirs", checkpoint_id=seed.checkpoint_id)
        owner = [("esp-owner", "writer@example.com")]
        got = self.stub.GetPopulation(request, metadata=self.metadata("other@example.com") + owner, timeout=30)
        self.assertEqual(got.SerializeToString(), seed.SerializeToString())
        self.assert_code(grpc.StatusCode.PERMISSION_DENIED, lambda: self.stub.GetPopulation(
            request, metadata=self.metadata("reader@example.com") + owner, timeout=30))

    def test_network_changes_are_refused_evolution_changes_accepted(self):
        seed = self.next_population("fixed-net")
        changed = json.loads(json.dumps(FIXTURE))
        changed["network"]["hidden_layers"][0]["layer_params"]["units"] = 8
        self.assert_code(grpc.StatusCode.FAILED_PRECONDITION,
                         lambda: self.next_population("fixed-net", self.evaluate(seed), config=changed))
        # CMA-ES continues only its own stored strategy, which a GA population has none of.
        cma = json.loads(json.dumps(FIXTURE))
        cma["evolution"]["algorithm"] = "cma_es"
        details = self.assert_code(grpc.StatusCode.FAILED_PRECONDITION,
                                   lambda: self.next_population("fixed-net", self.evaluate(seed), config=cma))
        self.assertIn("evolution.algorithm: checkpoint " + seed.checkpoint_id + " was bred by ga", details)
        tuned = json.loads(json.dumps(FIXTURE))
        tuned["evolution"]["mutation_factor"] = 0.5
        tuned["evolution"]["population_size"] = 24
        second = self.next_population("fixed-net", self.evaluate(seed), config=tuned)
        self.assertEqual(len(second.population), 24)

    def test_metrics_for_candidates_the_population_does_not_hold_are_invalid_argument(self):
        seed = self.next_population("misnamed")
        evaluated = self.evaluate(seed)
        evaluated.population[0].id = "1_999"
        details = self.assert_code(grpc.StatusCode.INVALID_ARGUMENT,
                                   lambda: self.next_population("misnamed", evaluated))
        self.assertIn(f"checkpoint {seed.checkpoint_id} does not hold, e.g. '1_999'", details)
        self.assertTrue(self.next_population("misnamed", self.evaluate(seed)).checkpoint_id.startswith("misnamed/2/"))

    def test_missing_metrics_rank_last_without_failing(self):
        seed = self.next_population("partial")
        evaluated = self.evaluate(seed)
        for candidate in random.Random(1).sample(list(evaluated.population), 5):
            candidate.metrics = b""
        self.assertEqual(self.next_population("partial", evaluated).generation_count, 2)


class LeanPopulationTest(unittest.TestCase):
    """A population too large to keep between generations (here every one, with
    --keep-genomes-up-to 0) is bred from the parents its request sends back, checked
    against what was handed out: the same bits as an espd that keeps it, whether the
    client sends the population back intact, changed, or without its weights."""

    def run_experiment(self, espd, token, experiment, meddle=lambda generation, evaluated: None,
                       representation="NNWeightsBinary"):
        config = json.loads(json.dumps(FIXTURE))
        config["LEAF"]["representation"] = representation
        config["evolution"]["seed"] = 11
        metadata = [("authorization", f"Bearer {token}")]
        answers = []
        with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}") as channel:
            stub = service.PopulationServiceStub(channel)
            evaluated = None
            for generation in range(1, 5):
                request = structs.PopulationRequest(version="v1", experiment_id=experiment,
                                                    config=json.dumps(config).encode())
                if evaluated is not None:
                    request.evaluated_population_response.CopyFrom(evaluated)
                answer = stub.NextPopulation(request, metadata=metadata, timeout=60)
                answers.append([(c.id, c.interpretation) for c in answer.population])
                evaluated = structs.PopulationResponse()
                evaluated.CopyFrom(answer)
                for index, candidate in enumerate(evaluated.population):
                    candidate.metrics = json.dumps({"score": (index * 7919 % 101) / 101}).encode()
                meddle(generation, evaluated)
        return answers

    def espd_with_user(self, *args):
        espd = Espd(*args, defer_start=True)
        espd.__enter__()
        self.addCleanup(espd.__exit__, None, None, None)
        espd.admin("users", "add", "a@example.com", password="password-123\n")
        espd.start()
        token = call(espd.url("/auth"), "POST",
                     json_body={"email": "a@example.com", "password": "password-123"}).json()["token"]
        return espd, token

    def test_the_request_supplies_the_parents_and_a_changed_one_is_not_bred_from(self):
        keeping, keeping_token = self.espd_with_user()
        lean, lean_token = self.espd_with_user("--keep-genomes-up-to", "0")
        reference = self.run_experiment(keeping, keeping_token, "kept")
        self.assertEqual(self.run_experiment(lean, lean_token, "lean"), reference)
        self.assertFalse([l for l in lean.lines if l.get("msg") == "parents_from_checkpoint"])

        def change_every_weight(generation, evaluated):
            if generation == 2:
                for candidate in evaluated.population:
                    candidate.interpretation = candidate.interpretation[:-4] + b"\0\0\0\0"

        def drop_the_weights(generation, evaluated):
            if generation == 3:
                for candidate in evaluated.population:
                    candidate.ClearField("interpretation")

        self.assertEqual(self.run_experiment(lean, lean_token, "changed", change_every_weight), reference)
        changed = lean.wait_for_log(lambda l: l.get("msg") == "parents_from_checkpoint")
        self.assertIn("differ", changed["detail"])
        self.assertEqual(self.run_experiment(lean, lean_token, "dropped", drop_the_weights), reference)
        lean.wait_for_log(lambda l: l.get("msg") == "parents_from_checkpoint" and "did not carry" in l["detail"])

    def test_the_sdks_json_copies_its_parents_texts_out_of_the_request_unless_changed(self):
        espd, token = self.espd_with_user()

        def texts_from_request(experiment):
            # The last job is recorded once stored, which may be after its answer.
            espd.wait_for_log(lambda l: l.get("msg") == "job_succeeded"
                              and l["checkpoint"].startswith(experiment + "/4/"))
            bred = [l for l in espd.lines if l.get("msg") == "job_succeeded"
                    and l["checkpoint"].startswith(experiment + "/")
                    and not l["checkpoint"].startswith(experiment + "/1/")]
            self.assertEqual(len(bred), 3)
            return [l["texts_from_request"] for l in bred]

        reference = self.run_experiment(espd, token, "as-sent", representation="NNWeights")
        # Every parent the generation may pick: the best 20% of 20 candidates. Digests are
        # kept only of an answer a call awaited when it was written; a worker that finishes
        # before the call starts waiting (a loaded machine) leaves the next one none.
        copied = texts_from_request("as-sent")
        self.assertTrue(set(copied) <= {0, 4} and 4 in copied, copied)

        def add_a_space(generation, evaluated):
            for candidate in evaluated.population:
                candidate.interpretation = b" " + candidate.interpretation

        changed = self.run_experiment(espd, token, "changed", add_a_space, representation="NNWeights")
        self.assertEqual(texts_from_request("changed"), [0, 0, 0])
        self.assertEqual(changed, reference)


class MessageLimitTest(unittest.TestCase):
    def test_a_population_over_the_limit_is_resource_exhausted_with_its_size(self):
        with Espd("--grpc-max-message", "64KiB", defer_start=True) as espd:
            espd.admin("users", "add", "a@example.com", password="password-123\n")
            espd.start()
            token = call(espd.url("/auth"), "POST",
                         json_body={"email": "a@example.com", "password": "password-123"}).json()["token"]
            big = json.loads(json.dumps(FIXTURE))
            big["evolution"]["population_size"] = 200  # 200 x 114 floats: about 100 KB
            with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}") as channel:
                with self.assertRaises(grpc.RpcError) as raised:
                    service.PopulationServiceStub(channel).NextPopulation(
                        structs.PopulationRequest(experiment_id="big", config=json.dumps(big).encode()),
                        metadata=[("authorization", f"Bearer {token}")], timeout=60)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
            self.assertRegex(raised.exception.details(), r"the population is \d+ bytes, over the 65536 byte")


if __name__ == "__main__":
    unittest.main()
