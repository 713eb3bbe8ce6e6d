"""gRPC as SDK clients with credentials use it: TLS with the token as call
credentials (sent only over TLS), an ssl target name override, the service_select
metadata and GetSystemInfo; and the loopback-only anonymous mode for older clients."""
import json
import tempfile
import unittest

import grpc

from certificates import self_signed_certificate
from espd import Espd
from httpjson import call
from population_stubs import population_service_pb2_grpc as service
from population_stubs import population_structs_pb2 as structs
from population_stubs import system_info_service_pb2 as info
from population_stubs import system_info_service_pb2_grpc as info_service

FIXTURE = json.load(open(__file__.rsplit("/", 2)[0] + "/fixtures/experiment.json"))


def login(espd):
    added = espd.admin("users", "add", "sdk@example.com", "--scopes", "esp:read esp:write",
                       password="password-123\n")
    assert added.returncode == 0, added.stderr
    espd.start()
    return call(espd.url("/auth"), "POST",
                json_body={"email": "sdk@example.com", "password": "password-123"}).json()["token"]


class TlsTest(unittest.TestCase):
    def test_sdk_style_tls_channel_with_token_call_credentials(self):
        with tempfile.TemporaryDirectory() as folder:
            cert, key = self_signed_certificate(folder, "esp.example.test")
            with Espd("--grpc-tls-cert", cert, "--grpc-tls-key", key, "--color", "green",
                      defer_start=True) as espd:
                token = login(espd)
                self.assertTrue(espd.wait_for_log(lambda l: l.get("msg") == "listening")["grpc_tls"])
                credentials = grpc.composite_channel_credentials(
                    grpc.ssl_channel_credentials(root_certificates=open(cert, "rb").read()),
                    grpc.access_token_call_credentials(token))
                options = [("grpc.ssl_target_name_override", "esp.example.test"),
                           ("grpc.max_receive_message_length", 50 * 1024 * 1024)]
                target = f"127.0.0.1:{espd.grpc_port}"
                with grpc.secure_channel(target, credentials, options) as channel:
                    population = service.PopulationServiceStub(channel).NextPopulation(
                        structs.PopulationRequest(version="v1", experiment_id="tls",
                                                  config=json.dumps(FIXTURE).encode()),
                        metadata=[("service_select", "green")], timeout=60)
                    self.assertEqual(population.generation_count, 1)
                    system = info_service.SystemInfoServiceStub(channel).GetSystemInfo(
                        info.SystemInfoRequest(), metadata=[("service_select", "green")], timeout=30)
                self.assertEqual((system.service_name, system.color, system.service_select),
                                 ("espd", "green", "green"))
                self.assertTrue(system.version)
                self.assertGreater(system.uptime_seconds, 0)
                logged = espd.wait_for_log(lambda l: l.get("msg") == "grpc_call"
                                           and l.get("method") == "NextPopulation")
                self.assertEqual((logged["service_select"], logged["subject"]), ("green", "sdk@example.com"))

                # A plaintext client cannot talk to the TLS port.
                with grpc.insecure_channel(target) as channel:
                    with self.assertRaises(grpc.RpcError) as raised:
                        info_service.SystemInfoServiceStub(channel).GetSystemInfo(
                            info.SystemInfoRequest(), timeout=10)
                    self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)

    def test_a_missing_certificate_file_stops_startup_with_a_clear_error(self):
        with Espd("--grpc-tls-cert", "/nonexistent/cert.pem", "--grpc-tls-key", "/nonexistent/key.pem",
                  defer_start=True) as espd:
            with self.assertRaises(RuntimeError):
                espd.start()
            failed = espd.wait_for_log(lambda l: l.get("msg") == "startup_failed")
            self.assertIn("/nonexistent/cert.pem", failed["detail"])


class AnonymousLoopbackTest(unittest.TestCase):
    def system_info(self, espd, metadata=None):
        with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}") as channel:
            return info_service.SystemInfoServiceStub(channel).GetSystemInfo(
                info.SystemInfoRequest(), metadata=metadata, timeout=30)

    def test_off_by_default(self):
        with Espd() as espd:
            with self.assertRaises(grpc.RpcError) as raised:
                self.system_info(espd)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_when_allowed_token_less_loopback_calls_act_as_anonymous(self):
        with Espd("--allow-anonymous-loopback") as espd:
            self.assertEqual(self.system_info(espd).service_name, "espd")
            with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}") as channel:
                stub = service.PopulationServiceStub(channel)
                seed = stub.NextPopulation(structs.PopulationRequest(
                    version="v1", experiment_id="old-sdk", config=json.dumps(FIXTURE).encode()), timeout=60)
                self.assertEqual(seed.generation_count, 1)
                # A token, when sent, is still checked.
                with self.assertRaises(grpc.RpcError) as raised:
                    stub.GetPopulation(structs.ExistingPopulationRequest(
                        experiment_id="old-sdk", checkpoint_id=seed.checkpoint_id),
                        metadata=[("authorization", "Bearer forged")], timeout=30)
                self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            logged = espd.wait_for_log(lambda l: l.get("msg") == "grpc_call"
                                       and l.get("method") == "NextPopulation")
            self.assertEqual(logged["subject"], "anonymous")


if __name__ == "__main__":
    unittest.main()
