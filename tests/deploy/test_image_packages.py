"""The production image can start espd and esp: every shared library the binaries load
belongs to a Debian package in the runtime stage's dependency closure. Checked without
containers, on the binaries this build made, with the same script the image build runs."""
import os
import re
import subprocess
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")
DERIVE = os.path.join(ROOT, "deploy", "image", "runtime-packages.sh")
# The release binaries the image ships, which `make test` builds; run by hand, the test
# build's (which add the sanitizer runtimes, left out below).
BINARIES = [os.environ.get("ESPD_RELEASE_BINARY") or os.environ["ESPD_BINARY"],
            os.environ.get("ESP_RELEASE_CLI_BINARY") or os.environ["ESP_CLI_BINARY"]]
SANITIZER_RUNTIMES = re.compile(r"lib(asan|ubsan|lsan|tsan)\.so")


def loaded_libraries():
    output = subprocess.run(["ldd", *BINARIES], capture_output=True, text=True, check=True).stdout
    libraries = set()
    for line in output.splitlines():
        match = re.search(r"=> (/\S+)", line) or re.match(r"\s+(/\S+) \(0x", line)
        if match and not SANITIZER_RUNTIMES.search(match.group(1)):
            libraries.add(match.group(1))
    return libraries


def owners():
    """library -> package, as the image build derives them."""
    answer = subprocess.run([DERIVE, "--owners", *BINARIES], capture_output=True, text=True)
    assert answer.returncode == 0, answer.stderr
    return dict(line.split() for line in answer.stdout.splitlines())


def runtime_stage():
    with open(DOCKERFILE) as dockerfile:
        text = dockerfile.read().replace("\\\n", " ")
    stages = re.split(r"^FROM ", text, flags=re.M)
    return stages[-1]


def closure(packages):
    answer = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
         "--no-breaks", "--no-replaces", "--no-enhances", *packages],
        capture_output=True, text=True, check=True)
    return {line.strip().split(":")[0] for line in answer.stdout.splitlines() if not line.startswith(" ")}


class RuntimePackagesTest(unittest.TestCase):
    def test_every_library_belongs_to_the_runtime_closure(self):
        stage = runtime_stage()
        install = re.search(r"apt-get install (.*?)(>|&&)", stage)
        self.assertIsNotNone(install, "the runtime stage installs packages with apt-get")
        words = install.group(1).split()
        self.assertIn("$(cat /mnt/src/build/runtime-packages.txt)", " ".join(words),
                      "the runtime stage installs the derived package list")
        listed = [w for w in words if not w.startswith("-") and "$(" not in w and ")" not in w]
        owner_of = owners()
        self.assertEqual(set(owner_of), loaded_libraries() | {l for l in owner_of if SANITIZER_RUNTIMES.search(l)},
                         "the derivation covers every library ldd shows")
        derived = {p for l, p in owner_of.items() if not SANITIZER_RUNTIMES.search(l)}
        installed = closure(listed + sorted(derived))
        missing = {library: package for library, package in owner_of.items()
                   if package not in installed and not SANITIZER_RUNTIMES.search(library)}
        self.assertEqual(missing, {}, "libraries the runtime stage would lack (library: owning package)")
        # The libraries that made the old image fail to start are among those covered.
        self.assertTrue({"libpqxx-6.4", "libpq5"} <= installed)

    def test_the_command_line_client_links_no_database_library(self):
        output = subprocess.run(["ldd", BINARIES[1]], capture_output=True, text=True, check=True).stdout
        for library in ("libsqlite3", "libpq", "libpqxx", "libargon2"):
            self.assertNotIn(library, output)

    def test_a_library_of_no_package_stops_the_derivation(self):
        with tempfile.TemporaryDirectory() as folder:
            library, program = os.path.join(folder, "libstray.so"), os.path.join(folder, "stray")
            with open(os.path.join(folder, "stray.c"), "w") as source:
                source.write("int stray(void) { return 0; }\n")
            with open(os.path.join(folder, "main.c"), "w") as source:
                source.write("int stray(void);\nint main(void) { return stray(); }\n")
            subprocess.run(["cc", "-shared", "-fPIC", "-o", library, os.path.join(folder, "stray.c")], check=True)
            subprocess.run(["cc", "-o", program, os.path.join(folder, "main.c"), f"-L{folder}", "-lstray",
                            f"-Wl,-rpath,{folder}"], check=True)
            answer = subprocess.run([DERIVE, program], capture_output=True, text=True)
            self.assertNotEqual(answer.returncode, 0)
            self.assertIn(f"{library} belongs to no Debian package", answer.stderr)


if __name__ == "__main__":
    unittest.main()
