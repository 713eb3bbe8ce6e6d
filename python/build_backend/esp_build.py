"""A PEP 517 build backend for esp_client using the standard library alone, so that
`pip install ./python` builds offline (pip would otherwise fetch setuptools into its
isolated build environment). It writes a pure-Python wheel (PEP 427) of the
`esp_client` package with the metadata of pyproject.toml's [project] table, and an
editable wheel (PEP 660) that puts this folder on sys.path."""
import base64
import hashlib
import io
import pathlib
import tomllib
import zipfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = "esp_client"


def _project():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}",
             f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in project.get("dependencies", [])]
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {requirement}; extra == "{extra}"' for requirement in requirements]
    return "\n".join(lines) + "\n"


def _record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory, files):
    """files: {archive name: bytes}; adds the dist-info and returns the wheel's name."""
    project = _project()
    distribution = project["name"].replace("-", "_")
    dist_info = f"{distribution}-{project['version']}.dist-info"
    files = dict(files)
    files[f"{dist_info}/METADATA"] = _metadata(project).encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: esp_build\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{dist_info}/top_level.txt"] = f"{PACKAGE}\n".encode()
    record = [_record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    name = f"{distribution}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for archive_name, data in files.items():
            wheel.writestr(archive_name, data)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    sources = sorted((ROOT / PACKAGE).rglob("*.py"))
    return _write_wheel(wheel_directory, {path.relative_to(ROOT).as_posix(): path.read_bytes()
                                          for path in sources})


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _write_wheel(wheel_directory, {f"{PACKAGE}.pth": f"{ROOT}\n".encode()})


def build_sdist(sdist_directory, config_settings=None):
    import tarfile

    project = _project()
    base = f"{project['name'].replace('-', '_')}-{project['version']}"
    name = f"{base}.tar.gz"
    with tarfile.open(pathlib.Path(sdist_directory) / name, "w:gz") as sdist:
        for path in [ROOT / "pyproject.toml", *sorted((ROOT / "build_backend").glob("*.py")),
                     *sorted((ROOT / PACKAGE).rglob("*.py"))]:
            sdist.add(path, arcname=f"{base}/{path.relative_to(ROOT).as_posix()}")
        info = _metadata(project).encode()
        entry = tarfile.TarInfo(f"{base}/PKG-INFO")
        entry.size = len(info)
        sdist.addfile(entry, io.BytesIO(info))
    return name
