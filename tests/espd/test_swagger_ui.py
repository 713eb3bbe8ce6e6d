"""Swagger UI at /ui/ in a real browser: headless Debian Chromium loads the page from
espd, the page fetches /openapi.json and lists the API's operations. A screenshot is
kept as a test artifact (ESP_TEST_ARTIFACTS)."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import openapi_check
from espd import Espd

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = os.environ.get("ESP_TEST_ARTIFACTS", tempfile.gettempdir())


def chromium(url, *extra):
    """Runs headless Chromium against `url`, with nothing but loopback reachable."""
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   f"--user-data-dir={profile}", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--disable-extensions",
                   "--disable-dev-shm-usage",
                   # Loopback is always reached directly; anything else would hit a closed port.
                   "--proxy-server=http://127.0.0.1:9",
                   "--virtual-time-budget=20000", "--window-size=1280,2400", *extra, url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)


class SwaggerUiTest(unittest.TestCase):
    def test_the_page_lists_the_api_operations(self):
        with Espd() as espd:
            url = espd.url("/ui/")
            dom = chromium(url, "--dump-dom")
            self.assertEqual(dom.returncode, 0, dom.stderr[-2000:])
            shown = set()
            for block in re.findall(r'<div class="opblock-summary[^"]*".*?</button>', dom.stdout, re.S):
                method = re.search(r'opblock-summary-method">(\w+)<', block)
                path = re.search(r'data-path="([^"]+)"', block)
                if method and path:
                    shown.add((method.group(1).upper(), path.group(1).replace("\u200b", "")))
            self.assertTrue(shown, "no operations rendered:\n" + dom.stdout[:3000])
            documented = openapi_check.operations()
            self.assertEqual(documented - shown, set(), "documented but not shown")
            self.assertIn("esp", dom.stdout)

            os.makedirs(ARTIFACTS, exist_ok=True)
            screenshot = os.path.join(ARTIFACTS, "swagger-ui.png")
            if os.path.exists(screenshot):
                os.remove(screenshot)
            shot = chromium(url, f"--screenshot={screenshot}")
            self.assertEqual(shot.returncode, 0, shot.stderr[-2000:])
            with open(screenshot, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertGreater(os.path.getsize(screenshot), 20_000)


if __name__ == "__main__":
    unittest.main()
