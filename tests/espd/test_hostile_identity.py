"""Identity against the real espd as an attacker would probe it: an outside issuer
whose subject equals one of espd's users (or another issuer's) sees none of their
records, and a key the issuer removes from its JWKS stops verifying once the
document's max-age has run out, while its replacement starts to."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from espd import Espd
from httpjson import bearer, call

FIXTURE = json.load(open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "experiment.json")))
SUPPORT = os.path.join(os.path.dirname(__file__), "..", "support")
TENANT, OTHER = "https://tenant.example/", "https://other.example/"


class JwksEndpoint:
    """tests/support/jwks_server.py serving keys the test publishes."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory()
        self.process = subprocess.Popen([sys.executable, "-u", os.path.join(SUPPORT, "jwks_server.py"),
                                         self.folder.name], stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline().split()[1])
        self.url = f"http://127.0.0.1:{self.port}/jwks.json"

    def publish(self, keys, cache_control):
        with open(os.path.join(self.folder.name, "cache-control"), "w") as f:
            f.write(cache_control)
        jwks = {"keys": [dict(json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(k.public_key())), kid=kid, use="sig",
                              alg="RS256") for kid, k in keys.items()]}
        with open(os.path.join(self.folder.name, "jwks.json"), "w") as f:
            json.dump(jwks, f)

    def close(self):
        self.process.terminate()
        self.process.wait()
        self.folder.cleanup()


class IdentityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.keys = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048),
                    "k2": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
        cls.tenant = JwksEndpoint()
        cls.tenant.publish({"k1": cls.keys["k1"]}, "public, max-age=1")
        cls.other = JwksEndpoint()
        cls.other.publish({"k2": cls.keys["k2"]}, "public, max-age=3600")
        issuers = [{"issuer": TENANT, "audience": "esp", "algorithms": ["RS256"], "jwks_url": cls.tenant.url,
                    "jwks_min_refresh_s": 1},
                   {"issuer": OTHER, "audience": "esp", "algorithms": ["RS256"], "jwks_url": cls.other.url}]
        cls.espd = Espd("--trusted-issuers", json.dumps(issuers), defer_start=True).__enter__()
        added = cls.espd.admin("users", "add", "alice@example.com", "--scopes", "esp:read esp:write",
                               password="password-123\n")
        assert added.returncode == 0, added.stderr
        cls.espd.start()
        cls.own = call(cls.espd.url("/auth"), "POST",
                       json_body={"email": "alice@example.com", "password": "password-123"}).json()["token"]

    @classmethod
    def tearDownClass(cls):
        cls.espd.__exit__(None, None, None)
        cls.tenant.close()
        cls.other.close()

    def mint(self, issuer, kid, subject="alice@example.com"):
        now = int(time.time())
        return jwt.encode({"iss": issuer, "sub": subject, "aud": "esp", "iat": now, "exp": now + 300,
                           "scope": "esp:read esp:write"}, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def accepted(self, token, timeout_s=10):
        """Whether `token` verifies, allowing the keys to arrive (fetched in the background)."""
        deadline = time.monotonic() + timeout_s
        while (status := call(self.espd.url("/contents"), headers=bearer(token)).status) != 200:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return status == 200

    def test_the_same_subject_of_another_issuer_sees_none_of_the_records(self):
        own = bearer(self.own)
        created = call(self.espd.url("/v1/experiments"), "POST", headers=own, json_body={"id": "mine", "params": FIXTURE})
        self.assertEqual(created.status, 201)
        self.assertEqual(created.json()["owner"], "alice@example.com")  # espd's own: as before
        outsider_token = self.mint(OTHER, "k2")
        self.assertTrue(self.accepted(outsider_token))
        outsider = bearer(outsider_token)
        self.assertEqual(call(self.espd.url("/v1/experiments/mine"), headers=outsider).status, 404)
        self.assertEqual(call(self.espd.url("/v1/experiments"), headers=outsider).json()["experiments"], [])
        # Its own experiment of the same id is its own.
        theirs = call(self.espd.url("/v1/experiments"), "POST", headers=outsider,
                      json_body={"id": "mine", "params": FIXTURE})
        self.assertEqual(theirs.status, 201, theirs.body)
        self.assertEqual(theirs.json()["owner"], f"{OTHER} alice@example.com")
        self.assertEqual(call(self.espd.url("/v1/experiments/mine"), headers=own).json()["owner"],
                         "alice@example.com")

    def test_a_removed_key_stops_verifying_and_its_replacement_starts(self):
        old = self.mint(TENANT, "k1", "rotating")
        self.assertTrue(self.accepted(old))
        self.tenant.publish({"k2": self.keys["k2"]}, "public, max-age=1")  # k1 revoked, k2 new
        new = self.mint(TENANT, "k2", "rotating")
        self.assertTrue(self.accepted(new))
        deadline = time.monotonic() + 10
        while call(self.espd.url("/contents"), headers=bearer(old)).status == 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        refused = call(self.espd.url("/contents"), headers=bearer(old))
        self.assertEqual(refused.status, 401)
        self.assertEqual(refused.json()["detail"], "token key id is unknown")
        self.assertEqual(call(self.espd.url("/healthz")).status, 200)


if __name__ == "__main__":
    unittest.main()
