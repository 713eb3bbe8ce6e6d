"""The deployment files as an operator applies them: every kustomize overlay renders
with kubectl, and the rendered objects carry the probes, resources, secrets and image
espd needs; the Dockerfile builds a slim, non-root, health-checked image."""
import os
import re
import shutil
import subprocess
import unittest

import yaml

DEPLOY = os.path.join(os.path.dirname(__file__), "..", "..", "deploy")
KUBECTL = shutil.which("kubectl")


def render(overlay):
    assert KUBECTL is not None, "kubectl (on the machine image) is needed to render the overlays"
    answer = subprocess.run([KUBECTL, "kustomize", os.path.join(DEPLOY, "k8s", "overlays", overlay)],
                            capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    objects = [o for o in yaml.safe_load_all(answer.stdout) if o]
    return {(o["kind"], o["metadata"]["name"]): o for o in objects}


def espd_container(objects):
    deployment = objects[("Deployment", "espd")]
    return deployment, deployment["spec"]["template"]["spec"]["containers"][0]


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


class ManifestsTest(unittest.TestCase):
    def assert_common(self, objects, namespace):
        deployment, container = espd_container(objects)
        self.assertEqual(deployment["metadata"]["namespace"], namespace)
        self.assertEqual(container["image"], "registry.example.com/esp:0.1.0")
        self.assertEqual(container["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertEqual(container["livenessProbe"]["httpGet"]["path"], "/healthz")
        for kind in ("requests", "limits"):
            self.assertEqual(set(container["resources"][kind]), {"cpu", "memory"})
        self.assertEqual({p["containerPort"] for p in container["ports"]}, {8080, 50051})
        pod = deployment["spec"]["template"]["spec"]
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertFalse(container["securityContext"]["allowPrivilegeEscalation"])
        volumes = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(volumes["signing-keys"]["secret"]["secretName"], "esp-signing-keys")
        config = objects[("ConfigMap", container["envFrom"][0]["configMapRef"]["name"])]["data"]
        self.assertEqual(config["ESP_SIGNING_KEYS"], "/etc/esp/keys/signing.pem")
        self.assertEqual(config["ESP_HTTP_ADDR"], "0.0.0.0:8080")
        # No secret is written into a manifest: only references.
        self.assertFalse(any(k in config for k in ("JWT_SECRET", "AWS_SECRET_ACCESS_KEY", "ESP_DATABASE_URL")))
        service = objects[("Service", "espd")]
        self.assertEqual({p["name"]: p["port"] for p in service["spec"]["ports"]}, {"http": 8080, "grpc": 50051})
        return deployment, container, config

    def test_dev_is_one_replica_on_embedded_storage(self):
        objects = render("dev")
        deployment, container, config = self.assert_common(objects, "esp-dev")
        self.assertEqual(deployment["spec"]["replicas"], 1)
        self.assertEqual(deployment["spec"]["strategy"]["type"], "Recreate")
        volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
        self.assertEqual(volumes["data"]["persistentVolumeClaim"]["claimName"], "esp-data")
        self.assertNotIn("emptyDir", volumes["data"])
        self.assertIn(("PersistentVolumeClaim", "esp-data"), objects)
        self.assertNotIn("ESP_DATABASE_URL", env_of(container))
        self.assertNotIn(("HorizontalPodAutoscaler", "espd"), objects)
        self.assertNotIn(("PodDisruptionBudget", "espd"), objects)

    def test_prod_runs_replicas_on_postgresql_and_s3_from_secrets(self):
        objects = render("prod")
        deployment, container, config = self.assert_common(objects, "esp")
        self.assertEqual(deployment["spec"]["replicas"], 3)
        env = env_of(container)
        for name, secret in [("ESP_DATABASE_URL", "esp-database"), ("AWS_ACCESS_KEY_ID", "esp-s3"),
                             ("AWS_SECRET_ACCESS_KEY", "esp-s3")]:
            self.assertEqual(env[name]["valueFrom"]["secretKeyRef"]["name"], secret)
        self.assertEqual(config["ESP_MODELS_BUCKET"], "esp-checkpoints")
        hpa = objects[("HorizontalPodAutoscaler", "espd")]
        self.assertEqual(hpa["spec"]["scaleTargetRef"]["name"], "espd")
        self.assertGreaterEqual(hpa["spec"]["minReplicas"], 2)
        pdb = objects[("PodDisruptionBudget", "espd")]
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"],
                         deployment["spec"]["selector"]["matchLabels"])

    def test_istio_routes_blue_green_on_service_select_and_checks_jwts(self):
        objects = render("istio")
        deployment, container, _ = self.assert_common(objects, "esp")
        self.assertEqual(deployment["spec"]["template"]["metadata"]["labels"]["color"], "blue")
        self.assertEqual(env_of(container)["ESP_COLOR"]["value"], "blue")
        routes = objects[("VirtualService", "espd")]["spec"]["http"]
        self.assertEqual(routes[0]["match"][0]["headers"]["service_select"]["exact"], "green")
        self.assertEqual(routes[0]["route"][0]["destination"]["subset"], "green")
        self.assertEqual(routes[-1]["route"][0]["destination"]["subset"], "blue")
        subsets = {s["name"]: s["labels"]["color"] for s in objects[("DestinationRule", "espd")]["spec"]["subsets"]}
        self.assertEqual(subsets, {"blue": "blue", "green": "green"})
        rule = objects[("RequestAuthentication", "espd-jwt")]["spec"]["jwtRules"][0]
        self.assertTrue(rule["jwksUri"].endswith("/.well-known/jwks.json"))
        self.assertEqual(rule["audiences"], ["esp"])
        self.assertIn(("Gateway", "esp-gateway"), objects)
        self.assertTrue(all(o["metadata"].get("namespace") == "esp" for o in objects.values()))


class DockerfileTest(unittest.TestCase):
    def test_multi_stage_slim_non_root_with_a_health_check(self):
        with open(os.path.join(DEPLOY, "Dockerfile")) as f:
            text = f.read()
        stages = re.findall(r"^FROM (\S+)", text, re.M)
        self.assertEqual(stages, ["${BASE_IMAGE}", "${BASE_IMAGE}"])
        self.assertRegex(text, r"(?m)^ARG BASE_IMAGE=debian:12-slim$")
        runtime = text.split("\nFROM ")[-1]
        self.assertRegex(runtime, r"\nUSER 10001")
        self.assertIn("HEALTHCHECK", runtime)
        self.assertIn("/healthz", runtime)
        self.assertNotIn("-dev", runtime)  # no build packages in the runtime image
        self.assertIn("COPY --from=build", runtime)


if __name__ == "__main__":
    unittest.main()
