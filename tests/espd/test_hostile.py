"""What a hostile caller throws at espd, against the real binary: documents nested
100,000 deep through both transports, a generation too big for the server, corrupt
stored data. Each gets a clear answer, nothing hostile is stored, espd stays healthy and
every accepted job ends exactly once."""
import base64
import glob
import json
import os
import resource
import unittest

import grpc

from espd import Espd
from httpjson import bearer, call
from population_stubs import population_service_pb2_grpc as service
from population_stubs import population_structs_pb2 as structs

FIXTURE_TEXT = open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "experiment.json")).read()
FIXTURE = json.loads(FIXTURE_TEXT)
DEEP = "[" * 100_000 + "]" * 100_000  # about 200 KB
PASSWORD = "password-123"


def params_with_extra(text):
    """The fixture's parameters with one more key holding `text` as written."""
    return FIXTURE_TEXT.rstrip().rstrip("}") + f', "extra": {text}}}'


def poison_params(candidates=1000):
    """Valid and under the weight caps, but about 16 GB per generation: 1000 x (1000 -> 998)."""
    params = json.loads(FIXTURE_TEXT)
    params["network"]["inputs"][0]["size"] = 1000
    params["network"]["hidden_layers"] = []
    params["network"]["outputs"][0]["size"] = 998
    params["evolution"]["population_size"] = candidates
    params["LEAF"]["representation"] = "NNWeightsBinary"  # 4 bytes a weight: big populations' choice
    return params


class HostileEspd:
    """espd with one user, a token and a gRPC stub."""

    def __init__(self, *args, binary=None, preexec_fn=None):
        self.espd = Espd(*args, defer_start=True, binary=binary, preexec_fn=preexec_fn)

    def __enter__(self):
        added = self.espd.admin("users", "add", "mallory@example.com", "--scopes", "esp:read esp:write",
                                password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        self.espd.start()
        answer = call(self.espd.url("/auth"), "POST", json_body={"email": "mallory@example.com", "password": PASSWORD})
        self.token = answer.json()["token"]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.espd.grpc_port}")
        self.stub = service.PopulationServiceStub(self.channel)
        return self

    def __exit__(self, *exc):
        self.channel.close()
        self.espd.__exit__(*exc)

    def rest(self, path, method="GET", headers=None, **kwargs):
        return call(self.espd.url(path), method, headers={**bearer(self.token), **(headers or {})}, **kwargs)

    def next_population(self, experiment_id, config_text, evaluated=None):
        request = structs.PopulationRequest(version="v1", experiment_id=experiment_id, config=config_text.encode())
        if evaluated is not None:
            request.evaluated_population_response.CopyFrom(evaluated)
        return self.stub.NextPopulation(request, metadata=[("authorization", f"Bearer {self.token}")], timeout=60)

    def assert_healthy(self, test):
        test.assertEqual(call(self.espd.url("/healthz")).status, 200)
        test.assertIsNone(self.espd.process.poll(), "espd is still running")

    def assert_every_job_ended_once(self, test):
        """Each job_started operation logged exactly one job_succeeded or job_failed."""
        started = {l["operation"] for l in self.espd.lines if l.get("msg") == "job_started"}
        ends = [l["operation"] for l in self.espd.lines if l.get("msg") in ("job_succeeded", "job_failed")]
        test.assertEqual(sorted(ends), sorted(started),
                         [l for l in self.espd.lines if str(l.get("msg", "")).startswith("job_")])


class DeepDocumentsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = HostileEspd("--max-generation-memory", "3GiB").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def assert_deep_refused(self, answer, path_prefix):
        self.assertEqual(answer.status, 400, answer.body[:300])
        self.assertEqual(answer.header("Content-Type"), "application/problem+json")
        problem = answer.json()
        self.assertEqual(problem["errors"][0]["reason"], "nested deeper than 64 levels")
        self.assertTrue(problem["errors"][0]["path"].startswith(path_prefix), problem["errors"][0]["path"])

    def test_rest_experiment_with_a_deep_value_is_refused_and_not_stored(self):
        body = f'{{"id": "deep", "params": {params_with_extra(DEEP)}}}'.encode()
        self.assert_deep_refused(self.server.rest("/v1/experiments", "POST", raw_json=body), "params.extra[0][0]")
        self.assertEqual(self.server.rest("/v1/experiments/deep").status, 404)
        self.server.assert_healthy(self)

    def test_rest_generation_body_with_a_deep_value_is_refused(self):
        created = self.server.rest("/v1/experiments", "POST", json_body={"id": "shallow", "params": FIXTURE})
        self.assertEqual(created.status, 201)
        body = f'{{"params": {params_with_extra(DEEP)}}}'.encode()
        self.assert_deep_refused(self.server.rest("/v1/experiments/shallow/generations", "POST", raw_json=body),
                                 "params.extra[0]")
        metrics = f'{{"checkpoint_id": "x", "population": [{{"id": "1_1", "metrics": {{"score": {DEEP}}}}}]}}'
        self.assert_deep_refused(self.server.rest("/v1/experiments/shallow/generations", "POST",
                                                  raw_json=metrics.encode()), "population[0].metrics.score[0]")
        self.server.assert_healthy(self)

    def test_grpc_config_with_a_deep_value_is_invalid_argument_and_not_stored(self):
        with self.assertRaises(grpc.RpcError) as raised:
            self.server.next_population("deep-grpc", params_with_extra(DEEP))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("Path: extra[0][0]", raised.exception.details())
        self.assertIn("Error: nested deeper than 64 levels", raised.exception.details())
        # Nothing was stored, so reading the experiment (which once crashed espd) is a 404.
        self.assertEqual(self.server.rest("/v1/experiments/deep-grpc").status, 404)
        self.server.assert_healthy(self)

    def test_grpc_metrics_with_a_deep_value_are_invalid_argument(self):
        seed = self.server.next_population("metrics", FIXTURE_TEXT)
        evaluated = structs.PopulationResponse()
        evaluated.CopyFrom(seed)
        for candidate in evaluated.population:
            candidate.metrics = b'{"score": 1}'
        evaluated.population[3].metrics = ('{"score": ' + DEEP + "}").encode()
        with self.assertRaises(grpc.RpcError) as raised:
            self.server.next_population("metrics", FIXTURE_TEXT, evaluated)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("nested deeper than 64 levels", raised.exception.details())
        self.server.assert_healthy(self)

    def test_grpc_request_bytes_that_are_no_message_are_invalid_argument(self):
        """espd reads NextPopulation's bytes itself (for ids and metrics alone): truncated or
        corrupt bytes are refused as protobuf would refuse them, and espd goes on."""
        seed = self.server.next_population("raw-bytes", FIXTURE_TEXT)
        request = structs.PopulationRequest(version="v1", experiment_id="raw-bytes", config=FIXTURE_TEXT.encode())
        request.evaluated_population_response.CopyFrom(seed)
        whole = request.SerializeToString()
        raw = self.server.channel.unary_unary("/population.PopulationService/NextPopulation",
                                              request_serializer=None, response_deserializer=None)
        auth = [("authorization", f"Bearer {self.server.token}")]
        for bad in (whole[: len(whole) // 2], b"\x22\xff\xff\xff\xff\x0f", b"\x00" * 16,
                    b"\x12\x03\xff\xfe\xfd" + whole):
            with self.assertRaises(grpc.RpcError) as raised:
                raw(bad, metadata=auth, timeout=30)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT, bad[:8])
            self.assertIn("not a PopulationRequest", raised.exception.details())
        # Without a token the bytes are not even read.
        with self.assertRaises(grpc.RpcError) as raised:
            raw(b"\x00" * 16, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
        get = self.server.channel.unary_unary("/population.PopulationService/GetPopulation",
                                              request_serializer=None, response_deserializer=None)
        with self.assertRaises(grpc.RpcError) as raised:
            get(b"\x1a\x05ab", metadata=auth, timeout=30)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        # The same request, whole, still breeds.
        answer = structs.PopulationResponse.FromString(raw(whole, metadata=auth, timeout=60))
        self.assertEqual(answer.generation_count, 2)
        self.server.assert_healthy(self)

    def test_deep_login_body_and_deep_token_are_refused(self):
        answer = call(self.server.espd.url("/auth"), "POST", raw_json=('{"email": ' + DEEP + "}").encode())
        self.assertEqual(answer.status, 400)
        # A token whose header nests 3000 deep (all the header limit leaves room for).
        deep_header = '{"alg": ' + "[" * 3000 + "]" * 3000 + "}"
        header = base64.urlsafe_b64encode(deep_header.encode()).rstrip(b"=").decode()
        answer = call(self.server.espd.url("/v1/experiments"), headers=bearer(header + ".e30.c2ln"))
        self.assertEqual(answer.status, 401)
        self.server.assert_healthy(self)

    def test_a_generation_too_big_for_the_server_is_refused_naming_both_sizes(self):
        created = self.server.rest("/v1/experiments", "POST", json_body={"id": "poison", "params": poison_params()})
        self.assertEqual(created.status, 201, created.body)
        refused = self.server.rest("/v1/experiments/poison/generations", "POST")
        self.assertEqual(refused.status, 413, refused.body)
        detail = refused.json()["detail"]
        self.assertRegex(detail, r"needs about \d+\.\d GiB of memory, over this server's 3\.0 GiB")
        with self.assertRaises(grpc.RpcError) as raised:
            self.server.next_population("poison-grpc", json.dumps(poison_params()))
        self.assertEqual(raised.exception.code(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.assertIn("--max-generation-memory", raised.exception.details())
        self.assertEqual(self.server.rest("/v1/experiments/poison").json()["generation"], 0)
        self.server.assert_healthy(self)

    def test_a_corrupt_checkpoint_answers_500_without_internal_texts(self):
        seed = self.server.next_population("corrupt", FIXTURE_TEXT)
        for path in glob.glob(os.path.join(self.server.espd.data_dir.name, "blobs", "checkpoints", "*", "*.pb")):
            with open(path, "wb") as payload:
                payload.write(b"\xff" * 64)
        answer = self.server.rest("/v1/experiments/corrupt/checkpoints/" + seed.checkpoint_id.replace("/", "%2F"),
                                  headers={"Accept": "application/json"})
        self.assertEqual(answer.status, 500, answer.body)
        problem = answer.json()
        self.assertEqual(problem["detail"], f"internal error (request {problem['request_id']})")
        logged = self.server.espd.wait_for_log(lambda l: l.get("msg") == "request_failed"
                                               and l.get("request_id") == problem["request_id"])
        self.assertIn("is corrupt", logged["detail"])
        self.server.assert_healthy(self)
        self.server.assert_every_job_ended_once(self)


class PrivateFilesTest(unittest.TestCase):
    def test_the_data_folder_and_the_generated_key_are_the_owners_alone(self):
        espd = Espd(defer_start=True)
        with espd:
            data = espd.data_dir.name
            os.rmdir(data)  # espd makes it
            os.umask(0o022)  # the common default, which would leave them readable
            espd.start()
            self.assertEqual(os.stat(data).st_mode & 0o777, 0o700)
            self.assertEqual(os.stat(os.path.join(data, "keys")).st_mode & 0o777, 0o700)
            self.assertEqual(os.stat(os.path.join(data, "keys", "signing-es256.pem")).st_mode & 0o777, 0o600)
            self.assertEqual([n for n in os.listdir(os.path.join(data, "keys")) if ".tmp" in n], [])


RELEASE_ESPD = os.environ.get("ESPD_RELEASE_BINARY")
ADDRESS_SPACE = 3 << 30


def limit_address_space(size=ADDRESS_SPACE):
    resource.setrlimit(resource.RLIMIT_AS, (size, size))


@unittest.skipUnless(RELEASE_ESPD, "needs the release espd (make test builds it): AddressSanitizer's "
                     "shadow memory cannot start under RLIMIT_AS")
class MemoryLimitTest(unittest.TestCase):
    """The release espd under a 3 GiB address-space limit, as a pod under a memory limit."""

    def test_the_default_limit_follows_the_address_space_and_refuses_the_poison_pill(self):
        with HostileEspd(binary=RELEASE_ESPD, preexec_fn=limit_address_space) as server:
            created = server.rest("/v1/experiments", "POST", json_body={"id": "poison", "params": poison_params()})
            self.assertEqual(created.status, 201)
            refused = server.rest("/v1/experiments/poison/generations", "POST")
            self.assertEqual(refused.status, 413, refused.body)
            self.assertIn("over this server's 2.2 GiB", refused.json()["detail"])  # 3/4 of 3 GiB
            server.assert_healthy(self)

    def test_a_job_that_runs_out_of_memory_fails_and_the_worker_goes_on(self):
        # The operator lifted the estimate's limit; 500 candidates (a message just under 2 GiB)
        # need a 1.86 GiB generation, more than the whole address space. (Under 3 GiB it fit
        # once espd stopped reserving a malloc arena for each thread, and took a minute to
        # fail later.)
        with HostileEspd("--max-generation-memory", "64GiB", "--workers", "1", binary=RELEASE_ESPD,
                         preexec_fn=lambda: limit_address_space(7 << 28)) as server:  # 1.75 GiB
            created = server.rest("/v1/experiments", "POST",
                                  json_body={"id": "poison", "params": poison_params(candidates=500)})
            self.assertEqual(created.status, 201)
            operation = server.rest("/v1/experiments/poison/generations", "POST").json()
            ended = server.rest(f"/v1/operations/{operation['id']}?wait=50").json()
            self.assertEqual(ended["status"], "failed")
            self.assertIn("ran out of memory", ended["error"]["message"])
            self.assertEqual(ended["error"]["code"], "resource_exhausted")
            server.assert_healthy(self)
            # The same worker runs the next job.
            server.rest("/v1/experiments", "POST", json_body={"id": "fine", "params": FIXTURE})
            fine = server.rest("/v1/experiments/fine/generations", "POST").json()
            self.assertEqual(server.rest(f"/v1/operations/{fine['id']}?wait=50").json()["status"], "succeeded")
            # (Log lines are not counted here: out of address space, a log line may be
            # dropped by the logger itself; the operations' records are the truth.)


if __name__ == "__main__":
    unittest.main()
