"""Starts the real espd binary on free loopback ports for integration tests."""
import itertools
import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading

ESPD = os.environ.get("ESPD_BINARY", "build/debug/espd")
START_TIMEOUT_S = 60


class Espd:
    """One espd process with its own data folder; use as a context manager."""

    def __init__(self, *args, env=None, ports=None, defer_start=False, storage_args=None, binary=None,
                 preexec_fn=None):
        """ports=(http, grpc) fixes the ports instead of reading them from the
        'listening' log line, for runs whose log level hides that line. With
        ESP_TEST_POSTGRES_URL_FILE set (ctest's PostgreSQL fixture), each instance gets
        a database of its own there instead of SQLite. binary: another espd (the release
        build); preexec_fn: run in the child before espd starts (resource limits)."""
        self.binary = binary or ESPD
        self.preexec_fn = preexec_fn
        self.args = list(args)
        # storage_args: share one database and bucket between replicas.
        self.storage_args = storage_args if storage_args is not None else (
            postgres_database_args() + s3_bucket_args())
        self.ports = ports
        self.defer_start = defer_start  # True: the test runs admin commands, then start()
        self.env = dict(os.environ, **(env or {}))
        self.data_dir = tempfile.TemporaryDirectory(prefix="espd-test-")
        self.lines = []  # every stdout line, parsed as JSON where possible
        self._lines_seen = threading.Condition()
        self.stderr = b""

    def __enter__(self):
        if not self.defer_start:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        self.data_dir.cleanup()

    def start(self):
        http_port, grpc_port = self.ports or (0, 0)
        with self._lines_seen:
            self.lines = []  # a restart must not find the previous run's lines
        command = [self.binary, "--data-dir", self.data_dir.name, *self.storage_args,
                   "--http-addr", f"127.0.0.1:{http_port}", "--grpc-addr", f"127.0.0.1:{grpc_port}", *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=self.env, preexec_fn=self.preexec_fn)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if self.ports:
            self.http_port, self.grpc_port = self.ports
            self._wait_until_accepting()
            return
        listening = self.wait_for_log(lambda line: line.get("msg") == "listening", START_TIMEOUT_S)
        if listening is None:
            self.stop()
            raise RuntimeError(f"espd did not start: {self.stderr.decode(errors='replace')}")
        self.http_port = int(listening["http"].rsplit(":", 1)[1])
        self.grpc_port = int(listening["grpc"].rsplit(":", 1)[1])

    def _wait_until_accepting(self):
        """Both listeners accept: HTTP starts before gRPC, so HTTP alone is not enough."""
        for port in (self.http_port, self.grpc_port):
            wait_for_port(port, self.process, lambda: self.stderr.decode(errors="replace"))

    def _read_stdout(self):
        for raw in self.process.stdout:
            try:
                line = json.loads(raw)
            except ValueError:
                line = {"raw": raw.decode(errors="replace")}
            with self._lines_seen:
                self.lines.append(line)
                self._lines_seen.notify_all()
        with self._lines_seen:
            self._lines_seen.notify_all()

    def _read_stderr(self):
        self.stderr = self.process.stderr.read()

    def wait_for_log(self, predicate, timeout_s=10):
        """Returns the first log line matching predicate, waiting up to timeout_s."""
        with self._lines_seen:
            found = self._lines_seen.wait_for(
                lambda: next((l for l in self.lines if predicate(l)), None) is not None
                or self.process.poll() is not None, timeout_s)
            return next((l for l in self.lines if predicate(l)), None) if found else None

    def admin(self, *args, password=None):
        """Runs an administration subcommand (espd users ..., espd clients ...) on this
        instance's data folder; the password, if any, goes to standard input."""
        return subprocess.run([self.binary, "--data-dir", self.data_dir.name, *self.storage_args, *args], input=password,
                              capture_output=True, text=True, env=self.env, timeout=60)

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def signal(self, signum=signal.SIGTERM):
        self.process.send_signal(signum)

    def wait(self, timeout_s=15):
        return self.process.wait(timeout=timeout_s)

    def stop(self):
        if not hasattr(self, "process"):
            return None  # never started
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def connect(self, timeout_s=10):
        return socket.create_connection(("127.0.0.1", self.http_port), timeout=timeout_s)


def fixture_value(variable):
    """What the file named by `variable` holds (ctest's server fixtures write them), or None."""
    path = os.environ.get(variable)
    if not path:
        return None
    with open(path) as f:
        return f.read().strip()


def postgres_database_args():
    """["--database-url", URL] of a new database on the test run's PostgreSQL, or []."""
    admin_url = fixture_value("ESP_TEST_POSTGRES_URL_FILE")
    if not admin_url:
        return []
    name = f"espd_{os.getpid()}_{next(_databases)}"
    subprocess.run(["psql", admin_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return ["--database-url", admin_url.rsplit("/", 1)[0] + "/" + name]


_databases = itertools.count()


def s3_bucket_args(endpoint=None):
    """Checkpoints in the test run's s3rver (ESP_TEST_S3_ENDPOINT_FILE, unless `endpoint`
    is given), or []."""
    endpoint = endpoint or fixture_value("ESP_TEST_S3_ENDPOINT_FILE")
    if not endpoint:
        return []
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "S3RVER")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "S3RVER")
    return ["--models-bucket", "esp-test", "--s3-endpoint", endpoint]


def wait_for_port(port, process, describe_exit=lambda: ""):
    """Returns once something accepts connections on the loopback port; raises if
    `process` exits first or nothing listens within START_TIMEOUT_S."""
    for _ in range(START_TIMEOUT_S * 100):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited: {describe_exit()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except ConnectionRefusedError:
            threading.Event().wait(0.01)
    raise RuntimeError(f"nothing accepts connections on port {port}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
