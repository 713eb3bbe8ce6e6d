"""The gRPC listener: standard health checking and server reflection.

Debian ships no Python stubs for grpc.health.v1, so the tiny messages are
encoded by hand (HealthCheckResponse.status is field 1, SERVING = 1).
"""
import sys
import unittest

import grpc

from espd import Espd

SERVING = b"\x08\x01"


def identity(data):
    return data


class GrpcListenerTest(unittest.TestCase):
    def test_health_serving_and_reflection_listing(self):
        with Espd() as espd:
            with grpc.insecure_channel(f"127.0.0.1:{espd.grpc_port}") as channel:
                check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                            request_serializer=identity,
                                            response_deserializer=identity)
                self.assertEqual(check(b"", timeout=10), SERVING)
                # The service names the original ESP deployment's probes ask for.
                for name in (b"population", b"grpc.population", b"population.PopulationService"):
                    self.assertEqual(check(b"\x0a" + bytes([len(name)]) + name, timeout=10), SERVING, name)

                unknown = b"\x0a\x07nothing"  # service: "nothing"
                with self.assertRaises(grpc.RpcError) as raised:
                    check(unknown, timeout=10)
                self.assertEqual(raised.exception.code(), grpc.StatusCode.NOT_FOUND)

                reflect = channel.stream_stream(
                    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                    request_serializer=identity, response_deserializer=identity)
                list_services = b"\x3a\x00"  # field 7, list_services = ""
                answers = list(reflect(iter([list_services]), timeout=10))
                self.assertEqual(len(answers), 1)
                self.assertIn(b"grpc.reflection.v1alpha.ServerReflection", answers[0])

    def test_shutdown_stops_grpc_with_the_process(self):
        espd = Espd()
        espd.start()
        port = espd.grpc_port
        self.assertEqual(espd.stop(), 0)
        espd.data_dir.cleanup()
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=identity, response_deserializer=identity)
            with self.assertRaises(grpc.RpcError) as raised:
                check(b"", timeout=2)
            self.assertEqual(raised.exception.code(), grpc.StatusCode.UNAVAILABLE)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1] + ["-v"])
