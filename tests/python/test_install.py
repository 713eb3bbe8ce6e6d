"""`pip install ./python` works offline: the package builds with its own standard-library
backend and installs into a virtual environment that sees Debian's numpy."""
import os
import subprocess
import venv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_pip_installs_the_package_offline_into_a_venv(tmp_path):
    env_dir = tmp_path / "venv"
    # ensurepip installs pip from the wheels Debian ships with python3-venv: offline too.
    venv.EnvBuilder(system_site_packages=True, with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_FIND_LINKS")}
    # --no-index: nothing may be fetched, not even the build backend.
    installed = subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-cache-dir", "--quiet",
                                os.path.join(ROOT, "python")], capture_output=True, text=True, env=clean,
                               cwd=tmp_path, timeout=300)
    assert installed.returncode == 0, installed.stderr
    imported = subprocess.run([python, "-c", "import esp_client, numpy; print(esp_client.__file__); "
                               "print(esp_client.Client.__doc__ is not None)"],
                              capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=60)
    assert imported.returncode == 0, imported.stderr
    where, documented = imported.stdout.split()
    assert where.startswith(str(env_dir)) and documented == "True"
