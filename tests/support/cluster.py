"""Several espd replicas sharing one PostgreSQL database and one S3 bucket behind
Debian's nginx on loopback, as operators run them behind a load balancer; and a
client that drives experiments through it the way `esp run` does, retrying what a
dying replica drops."""
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import zlib

from espd import Espd, free_port, postgres_database_args, s3_bucket_args, wait_for_port
from httpjson import bearer, call

EMAIL, PASSWORD = "scale@example.com", "password-123"
SHARED_ENV = {"JWT_SECRET": "replicas-share-this-hs256-secret-0123456789"}
# Answers a client sees while a replica dies or the balancer has not yet noticed.
RETRIED_STATUSES = {502, 503, 504}


class Balancer:
    """nginx in the foreground, round-robin over the replicas' HTTP ports. A replica
    that refuses connections is skipped; a request it already received is not resent
    by nginx (POSTs are not idempotent to it), so clients retry those."""

    def __init__(self, ports):
        self.port = free_port()
        self.folder = tempfile.TemporaryDirectory(prefix="balancer-")
        work = self.folder.name
        servers = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=60s;" for p in ports)
        config = f"""
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work};
  upstream espd {{
{servers}
    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{self.port};
    client_max_body_size 64m;
    location / {{
      proxy_pass http://espd;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 90s;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"""
        with open(f"{work}/nginx.conf", "w") as f:
            f.write(config)
        if os.geteuid() == 0:
            os.chmod(work, 0o777)  # nginx's workers drop to nobody
        self.process = subprocess.Popen(["nginx", "-c", f"{work}/nginx.conf", "-p", work, "-e",
                                         f"{work}/error.log"], stderr=subprocess.PIPE)
        wait_for_port(self.port, self.process, lambda: self.process.stderr.read().decode(errors="replace"))

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=15)
        self.process.stderr.close()
        self.folder.cleanup()


class Cluster:
    """espd replicas on one fresh database and the test bucket, with an account and a
    token valid on each, behind a Balancer. `replicas` is a count, or a list with each
    replica's own arguments; `args` go to all of them."""

    def __init__(self, replicas, *args, storage_args=None):
        self.storage = storage_args if storage_args is not None else postgres_database_args() + s3_bucket_args()
        own_args = [[]] * replicas if isinstance(replicas, int) else replicas
        common = ["--issuer", "http://esp.test/", *args]
        self.replicas = [Espd(*common, *own, env=SHARED_ENV, storage_args=self.storage, defer_start=True)
                         for own in own_args]
        self.balancer = None
        try:
            for replica in self.replicas:
                replica.__enter__()
            # All at once on the fresh database, as pods of a new Deployment start: the
            # migrations' advisory lock lets one migrate while the others wait.
            starts = [threading.Thread(target=replica.start) for replica in self.replicas]
            for start in starts:
                start.start()
            for start in starts:
                start.join()
            for replica in self.replicas:
                if not hasattr(replica, "http_port"):
                    raise RuntimeError(f"a replica did not start: {replica.stderr.decode(errors='replace')}")
            added = self.replicas[0].admin("users", "add", EMAIL, password=PASSWORD + "\n")
            if added.returncode != 0:
                raise RuntimeError(added.stderr)
            self.balancer = Balancer([r.http_port for r in self.replicas])
            token = call(self.balancer.url("/auth"), "POST", json_body={"email": EMAIL, "password": PASSWORD})
            self.headers = bearer(token.json()["token"])
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.balancer:
            self.balancer.close()
        for replica in self.replicas:
            replica.__exit__(None, None, None)


def database_rows(storage_args, query):
    """The rows `query` returns from the database in `storage_args`, as lists of strings."""
    url = storage_args[storage_args.index("--database-url") + 1]
    out = subprocess.run(["psql", url, "-At", "-F", "|", "-c", query], check=True, capture_output=True, text=True)
    return [line.split("|") for line in out.stdout.splitlines()]


def score(candidate_id):
    """The client's predictor: any deterministic number per candidate will do."""
    return (zlib.crc32(candidate_id.encode()) % 10_000) / 10_000


class ExperimentDriver:
    """Runs one experiment for `generations` generations through `base_url`, as a
    client does: create, seed, then evaluate each checkpoint and ask for the next.
    Every request is retried while replicas die; resending is safe because espd
    answers the same request with the same operation."""

    def __init__(self, base_url, headers, experiment_id, params, generations, wait_s=20):
        self.base_url, self.headers = base_url, headers
        self.experiment_id, self.params, self.generations = experiment_id, params, generations
        self.wait_s = wait_s
        self.operations = []  # (operation id, checkpoint id) per generation
        self.retries = 0

    def request(self, method, path, body=None, ok=(200, 201, 202), timeout=90):
        for _ in range(200):
            try:
                answer = call(self.base_url + path, method, json_body=body, headers=self.headers, timeout=timeout)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                answer = None
            if answer is not None and answer.status in ok:
                return answer.json()
            if answer is not None and answer.status not in RETRIED_STATUSES:
                raise AssertionError(f"{method} {path}: {answer.status} {answer.body[:500]!r}")
            self.retries += 1
            time.sleep(0.05)  # pacing between retries, not synchronisation
        raise AssertionError(f"{method} {path}: still failing after retries")

    def run(self):
        experiments = "/v1/experiments"
        self.request("POST", experiments, {"id": self.experiment_id, "params": self.params})
        body = None
        for _ in range(self.generations):
            operation = self.request("POST", f"{experiments}/{self.experiment_id}/generations", body)
            while operation["status"] in ("queued", "running"):
                operation = self.request("GET", f"/v1/operations/{operation['id']}?wait={self.wait_s}")
            if operation["status"] != "succeeded":
                raise AssertionError(f"{self.experiment_id}: operation {operation}")
            checkpoint_id = operation["result"]["checkpoint_id"]
            self.operations.append((operation["id"], checkpoint_id))
            population = self.request("GET", f"{experiments}/{self.experiment_id}/checkpoints/{checkpoint_id}")
            body = {"checkpoint_id": checkpoint_id,
                    "population": [{"id": c["id"], "metrics": {"score": score(c["id"])}}
                                   for c in population["population"]]}
        return self


def drive(base_url, headers, experiments, generations, params, prefix="exp"):
    """Runs `experiments` ExperimentDrivers in parallel threads; returns them once all
    finished, raising the first failure."""
    drivers = [ExperimentDriver(base_url, headers, f"{prefix}-{i}", params, generations)
               for i in range(experiments)]
    failures = []

    def run(driver):
        try:
            driver.run()
        except BaseException as error:  # reported by the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(d,)) for d in drivers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return drivers
