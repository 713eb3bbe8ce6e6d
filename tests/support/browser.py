"""Headless Debian Chromium driven over the DevTools protocol (python3-websocket): open
a page, evaluate script in it, wait for what it shows, take screenshots, and collect
what it logged (CSP violations, uncaught errors). Only loopback is reachable."""
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

import websocket

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Browser:
    """One Chromium process with a fresh profile; use as a context manager."""

    def __init__(self, width=1280, height=1800):
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   f"--user-data-dir={self.profile.name}", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--disable-extensions",
                   "--disable-dev-shm-usage", "--proxy-server=http://127.0.0.1:9",
                   "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                   "--remote-allow-origins=*", f"--window-size={width},{height}", "about:blank"]
        # In a process group of its own, so that its children go with it (see __exit__).
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self.port = self._devtools_port()

    def _devtools_port(self, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        seen = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            seen.append(line)
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                # Keep draining stderr so Chromium never blocks on a full pipe.
                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return int(found.group(1))
        raise RuntimeError("Chromium did not start:\n" + "".join(seen[-20:]))

    def page(self):
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10))
        target = next(t for t in targets if t["type"] == "page")
        return Page(target["webSocketDebuggerUrl"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # The whole group: Chromium's own children (renderers, zygote, crash handler)
        # outlived the browser process when only it was stopped, kept writing into the
        # profile while it was removed, and held the test's output open until ctest
        # timed it out.
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 15
        while self._signal_group(0) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.profile.cleanup()

    def _signal_group(self, number):
        """Sends `number` to Chromium's process group; False once none of it is left."""
        try:
            os.killpg(self.process.pid, number)
            return True
        except ProcessLookupError:
            return False


class Page:
    """One tab: commands are answered in order; events are kept in `log`."""

    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=60, suppress_origin=True)
        self.next_id = 0
        self.log = []  # console messages, log entries (CSP reports) and uncaught exceptions
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable")

    def send(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._event(message)

    def _event(self, message):
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.log.append(("console", params["type"], " ".join(str(a.get("value", a.get("description", "")))
                                                                  for a in params.get("args", []))))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.log.append(("exception", "error", details.get("exception", {}).get("description", details["text"])))
        elif method == "Log.entryAdded":
            entry = params["entry"]
            self.log.append(("log", entry["level"], entry.get("source", "") + ": " + entry["text"]))

    def navigate(self, url):
        self.send("Page.navigate", url=url)

    def evaluate(self, expression):
        """The value of `expression` (awaited when it is a promise), as JSON."""
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout_s=30, what=None):
        """Polls until `expression` is truthy; returns its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = self.evaluate(expression)
            except RuntimeError:
                value = None  # the page is still loading
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or expression}; page log: {self.log[-10:]}")
            time.sleep(0.1)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        self.socket.close()
