"""Identity against the real espd: accounts, token issuance, verification, and
cross-checks with an independent JOSE implementation (Debian's PyJWT)."""
import base64
import json
import os
import tempfile
import time
import unittest
import urllib.parse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from espd import Espd, free_port
from httpjson import bearer, call

PASSWORD = "correct horse battery staple"


class IssuedTokensTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.espd = Espd(defer_start=True).__enter__()
        added = cls.espd.admin("users", "add", "alice@example.com", "--scopes", "esp:read esp:write",
                               password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
        reader = cls.espd.admin("users", "add", "reader@example.com", "--scopes", "esp:read",
                                password="reader-password\n")
        assert reader.returncode == 0, reader.stderr
        client = cls.espd.admin("clients", "add", "ci", "--scopes", "all:esp")
        assert client.returncode == 0, client.stderr
        lines = dict(line.split("=", 1) for line in client.stdout.splitlines() if "=" in line)
        cls.client_id, cls.client_secret = lines["client_id"], lines["client_secret"]
        cls.espd.start()

    @classmethod
    def tearDownClass(cls):
        cls.espd.__exit__(None, None, None)

    def login(self, email="alice@example.com", password=PASSWORD):
        return call(self.espd.url("/auth"), "POST", json_body={"email": email, "password": password})

    def token(self):
        answer = self.login()
        self.assertEqual(answer.status, 200, answer.body)
        return answer.json()["token"]

    def assert_problem(self, answer, status):
        self.assertEqual(answer.status, status, answer.body)
        self.assertEqual(answer.header("Content-Type"), "application/problem+json")
        self.assertEqual(answer.json()["status"], status)

    # --- POST /auth and GET /contents ---

    def test_login_then_contents_shows_the_verified_claims(self):
        token = self.token()
        contents = call(self.espd.url("/contents"), headers=bearer(token))
        self.assertEqual(contents.status, 200, contents.body)
        claims = contents.json()
        self.assertEqual(claims["sub"], "alice@example.com")
        self.assertEqual(claims["email"], "alice@example.com")
        self.assertEqual(claims["aud"], "esp")
        self.assertEqual(claims["scope"], "esp:read esp:write")
        self.assertEqual(claims["permissions"], ["esp:read", "esp:write"])
        for name in ("iss", "iat", "nbf", "exp", "jti"):
            self.assertIn(name, claims)
        self.assertEqual(claims["exp"] - claims["iat"], 3600)

    def test_login_errors(self):
        self.assert_problem(self.login(password="wrong"), 401)
        unknown = self.login(email="nobody@example.com")
        self.assert_problem(unknown, 401)
        self.assertEqual(unknown.json()["detail"], self.login(password="wrong").json()["detail"])
        self.assert_problem(call(self.espd.url("/auth"), "POST", json_body={"email": "alice@example.com"}), 400)
        self.assert_problem(call(self.espd.url("/auth"), "POST", form="not json"), 400)

    def test_contents_requires_a_valid_bearer_token(self):
        missing = call(self.espd.url("/contents"))
        self.assert_problem(missing, 401)
        self.assertEqual(missing.header("WWW-Authenticate"), 'Bearer realm="esp"')
        garbage = call(self.espd.url("/contents"), headers=bearer("not.a.token"))
        self.assert_problem(garbage, 401)
        self.assertIn('error="invalid_token"', garbage.header("WWW-Authenticate"))
        token = self.token()
        tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        self.assert_problem(call(self.espd.url("/contents"), headers=bearer(tampered)), 401)
        huge = call(self.espd.url("/contents"), headers=bearer(token + "A" * 9000))
        self.assert_problem(huge, 401)
        self.assertEqual(huge.json()["detail"], "token too large")

    def test_alg_none_and_hs256_with_the_public_key_are_refused(self):
        claims = jwt.decode(self.token(), options={"verify_signature": False})
        unsigned = jwt.encode(claims, None, algorithm="none")
        self.assert_problem(call(self.espd.url("/contents"), headers=bearer(unsigned)), 401)
        jwks = call(self.espd.url("/.well-known/jwks.json")).json()
        public_text = json.dumps(jwks["keys"][0]).encode()
        header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": jwks["keys"][0]["kid"]}).encode())
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode())
        signing_input = header.rstrip(b"=") + b"." + payload.rstrip(b"=")
        import hmac, hashlib
        mac = hmac.new(public_text, signing_input, hashlib.sha256).digest()
        forged = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
        self.assert_problem(call(self.espd.url("/contents"), headers=bearer(forged)), 401)

    def test_failures_are_logged_with_a_reason_and_tokens_never_are(self):
        token = self.token()
        call(self.espd.url("/contents"), headers=bearer(token[:-3]))
        line = self.espd.wait_for_log(lambda l: l.get("msg") == "auth_failed" and "signature" in l.get("reason", ""))
        self.assertIsNotNone(line)
        call(self.espd.url("/contents"), headers=bearer(token))
        self.espd.wait_for_log(lambda l: l.get("msg") == "request" and l.get("subject") == "alice@example.com")
        everything = json.dumps(self.espd.lines)
        self.assertNotIn(token[:-3], everything)
        self.assertNotIn(PASSWORD, everything)

    # --- esp's tokens verified by PyJWT with esp's JWKS ---

    def test_pyjwt_verifies_esp_tokens_with_the_published_jwks(self):
        token = self.token()
        config = call(self.espd.url("/.well-known/openid-configuration")).json()
        self.assertEqual(config["jwks_uri"], config["issuer"] + ".well-known/jwks.json")
        self.assertIn("client_credentials", config["grant_types_supported"])
        keys = jwt.PyJWKClient(self.espd.url("/.well-known/jwks.json")).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, keys.key, algorithms=["ES256"], audience="esp", issuer=config["issuer"])
        self.assertEqual(claims["sub"], "alice@example.com")

    # --- POST /oauth/token ---

    def oauth(self, form=None, json_body=None, headers=None):
        return call(self.espd.url("/oauth/token"), "POST", form=form, json_body=json_body, headers=headers)

    def assert_oauth_error(self, answer, status, error):
        self.assertEqual(answer.status, status, answer.body)
        self.assertEqual(answer.json()["error"], error)
        self.assertEqual(answer.header("Cache-Control"), "no-store")

    def test_client_credentials_in_form_json_and_basic(self):
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        for answer in (
            self.oauth(form={"grant_type": "client_credentials", "client_id": self.client_id,
                             "client_secret": self.client_secret}),
            self.oauth(json_body={"grant_type": "client_credentials", "client_id": self.client_id,
                                  "client_secret": self.client_secret, "audience": "esp"}),
            self.oauth(form={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}),
        ):
            self.assertEqual(answer.status, 200, answer.body)
            body = answer.json()
            self.assertEqual(body["token_type"], "Bearer")
            self.assertEqual(body["expires_in"], 3600)
            self.assertEqual(body["scope"], "esp:read esp:write esp:admin")
            self.assertEqual(answer.header("Cache-Control"), "no-store")
            contents = call(self.espd.url("/contents"), headers=bearer(body["access_token"])).json()
            self.assertEqual(contents["sub"], f"{self.client_id}@clients")

    def test_oauth_errors(self):
        self.assert_oauth_error(self.oauth(form={"grant_type": "client_credentials", "client_id": self.client_id,
                                                 "client_secret": "wrong"}), 401, "invalid_client")
        basic = base64.b64encode(f"{self.client_id}:wrong".encode()).decode()
        answer = self.oauth(form={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
        self.assert_oauth_error(answer, 401, "invalid_client")
        self.assertEqual(answer.header("WWW-Authenticate"), 'Basic realm="esp"')
        self.assert_oauth_error(self.oauth(form={"grant_type": "client_credentials"}), 401, "invalid_client")
        self.assert_oauth_error(self.oauth(form={"grant_type": "authorization_code"}), 400, "unsupported_grant_type")
        self.assert_oauth_error(self.oauth(form={}), 400, "invalid_request")
        self.assert_oauth_error(self.oauth(form={"grant_type": "password", "username": "alice@example.com",
                                                 "password": "wrong"}), 400, "invalid_grant")
        self.assert_oauth_error(self.oauth(form={"grant_type": "client_credentials", "client_id": self.client_id,
                                                 "client_secret": self.client_secret, "audience": "other"}),
                                400, "invalid_request")

    def test_password_grant_and_scope_narrowing(self):
        answer = self.oauth(form={"grant_type": "password", "username": "alice@example.com", "password": PASSWORD,
                                  "scope": "esp:read"})
        self.assertEqual(answer.status, 200, answer.body)
        self.assertEqual(answer.json()["scope"], "esp:read")
        self.assert_oauth_error(self.oauth(form={"grant_type": "password", "username": "reader@example.com",
                                                 "password": "reader-password", "scope": "esp:admin"}),
                                400, "invalid_scope")

    # --- administration ---

    def test_admin_commands(self):
        again = self.espd.admin("users", "add", "alice@example.com", password="x\n")
        self.assertEqual(again.returncode, 2)
        self.assertIn("already exists", again.stderr)
        empty = self.espd.admin("users", "add", "empty@example.com", password="\n")
        self.assertEqual(empty.returncode, 2)
        listed = self.espd.admin("users", "list")
        self.assertIn("alice@example.com\tesp:read esp:write\tactive", listed.stdout)
        self.assertNotIn(PASSWORD, listed.stdout)
        self.assertEqual(self.espd.admin("users", "disable", "nobody@example.com").returncode, 2)

    def test_disabled_users_get_no_tokens(self):
        added = self.espd.admin("users", "add", "leaver@example.com", password="leaving-soon\n")
        self.assertEqual(added.returncode, 0, added.stderr)
        self.assertEqual(self.login("leaver@example.com", "leaving-soon").status, 200)
        self.assertEqual(self.espd.admin("users", "disable", "leaver@example.com").returncode, 0)
        self.assertEqual(self.login("leaver@example.com", "leaving-soon").status, 401)


class SigningKeysTest(unittest.TestCase):
    def test_generated_key_survives_restarts(self):
        # Fixed ports: the default issuer is http://<http-addr>/, which must not change.
        with Espd(defer_start=True, ports=(free_port(), free_port())) as espd:
            espd.admin("users", "add", "a@example.com", password="pw-123456\n")
            espd.start()
            token = call(espd.url("/auth"), "POST", json_body={"email": "a@example.com", "password": "pw-123456"}).json()["token"]
            kid = call(espd.url("/.well-known/jwks.json")).json()["keys"][0]["kid"]
            espd.stop()
            key_file = os.path.join(espd.data_dir.name, "keys", "signing-es256.pem")
            self.assertEqual(os.stat(key_file).st_mode & 0o777, 0o600)
            espd.start()
            self.assertEqual(call(espd.url("/.well-known/jwks.json")).json()["keys"][0]["kid"], kid)
            self.assertEqual(call(espd.url("/contents"), headers=bearer(token)).status, 200)

    def test_hs256_secret_from_the_environment(self):
        secret = "s" * 40
        with Espd(env={"JWT_SECRET": secret}, defer_start=True) as espd:
            espd.admin("users", "add", "a@example.com", password="pw-123456\n")
            espd.start()
            token = call(espd.url("/auth"), "POST", json_body={"email": "a@example.com", "password": "pw-123456"}).json()["token"]
            claims = jwt.decode(token, secret, algorithms=["HS256"], audience="esp")
            self.assertEqual(claims["sub"], "a@example.com")
            self.assertEqual(call(espd.url("/.well-known/jwks.json")).json()["keys"], [])
            self.assertNotIn(secret, json.dumps(espd.lines))

    def test_short_secrets_are_refused_unless_insecure_dev(self):
        with Espd(env={"JWT_SECRET": "short"}, defer_start=True) as espd:
            with self.assertRaises(RuntimeError):
                espd.start()
            self.assertEqual(espd.process.returncode, 2)
            self.assertNotIn("short", json.dumps(espd.lines))
        with Espd("--insecure-dev", env={"JWT_SECRET": "short"}) as espd:
            self.assertEqual(call(espd.url("/healthz")).status, 200)


class ExternalIssuerTest(unittest.TestCase):
    """Tokens minted by PyJWT, as an Auth0 tenant or Keycloak realm would, verify in esp."""

    @classmethod
    def setUpClass(cls):
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.folder = tempfile.TemporaryDirectory()
        pem_file = os.path.join(cls.folder.name, "idp.pem")
        with open(pem_file, "wb") as f:
            f.write(cls.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
        issuers = [{"issuer": "https://tenant.example/", "audience": "https://esp.example/api",
                    "algorithms": ["RS256"], "pem_file": pem_file}]
        cls.espd = Espd("--trusted-issuers", json.dumps(issuers), "--token-leeway-s", "120").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.espd.__exit__(None, None, None)
        cls.folder.cleanup()

    def mint(self, **overrides):
        now = int(time.time())
        claims = {"iss": "https://tenant.example/", "sub": "auth0|42", "aud": "https://esp.example/api",
                  "iat": now, "exp": now + 300, "scope": "openid all:esp"}
        claims.update(overrides)
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "idp-1"})

    def contents(self, token):
        return call(self.espd.url("/contents"), headers=bearer(token))

    def test_pyjwt_tokens_verify(self):
        answer = self.contents(self.mint())
        self.assertEqual(answer.status, 200, answer.body)
        self.assertEqual(answer.json()["sub"], "auth0|42")
        # Expired 90 s ago: inside the configured 120 s leeway, outside the default 60 s.
        self.assertEqual(self.contents(self.mint(exp=int(time.time()) - 90)).status, 200)

    def test_claim_checks(self):
        now = int(time.time())
        for reason, token in [
            ("token audience is not accepted", self.mint(aud="esp")),
            ("token issuer is not trusted", self.mint(iss="https://evil.example/")),
            ("token expired", self.mint(exp=now - 3600)),
            ("token expired", self.mint(exp=now - 150)),  # beyond the configured 120 s leeway
            ("token not yet valid", self.mint(nbf=now + 3600)),
            ("token issued in the future", self.mint(iat=now + 3600)),
        ]:
            answer = self.contents(token)
            self.assertEqual(answer.status, 401, reason)
            self.assertEqual(answer.json()["detail"], reason)

    def test_jku_and_x5u_headers_are_ignored(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = int(time.time())
        forged = jwt.encode({"iss": "https://tenant.example/", "sub": "x", "aud": "https://esp.example/api",
                             "exp": now + 300}, other, algorithm="RS256",
                            headers={"jku": "http://127.0.0.1:1/jwks.json", "x5u": "http://127.0.0.1:1/x"})
        self.assertEqual(self.contents(forged).status, 401)


if __name__ == "__main__":
    unittest.main()
