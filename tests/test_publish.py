"""`make publish` for real: a pypiserver with upload authentication on 127.0.0.1, a wrong password, an upload,
a repeated upload, then an install from that index into a fresh virtual environment that lists models from the
emulator. The dependencies come from the wheelhouse `make venv` filled, so nothing reaches another host."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]

from tests.conftest import ROOT

USER = "publisher"
PASSWORD = "correct horse battery staple"
BIN = Path(sys.executable).parent
WHEELHOUSE = BIN.parent / "wheelhouse"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A pypiserver on 127.0.0.1 that needs a password to upload; yields (its URL, its package folder)."""
    root = tmp_path_factory.mktemp("index")
    packages = root / "packages"
    packages.mkdir()
    htpasswd = HtpasswdFile(str(root / "htpasswd"), new=True)
    htpasswd.set_password(USER, PASSWORD)
    htpasswd.save()
    port = _free_port()
    command = [str(BIN / "pypi-server"), "run", "-i", "127.0.0.1", "-p", str(port)]
    command += ["-P", str(root / "htpasswd"), "-a", "update", "--disable-fallback", str(packages)]
    log = (root / "server.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None:
                pytest.fail(f"pypiserver exited: {(root / 'server.log').read_text()}")
            time.sleep(0.05)
        else:
            pytest.fail("pypiserver did not answer /health")
        yield url, packages
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _publish(url: str, password: str | None, dist: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINE_")}
    env.update({"TWINE_REPOSITORY_URL": url, "TWINE_USERNAME": USER})
    if password is not None:
        env["TWINE_PASSWORD"] = password
    return subprocess.run(
        ["make", "--no-print-directory", "publish", f"DIST={dist}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_publish_refuses_without_credentials(index: tuple[str, Path], tmp_path: Path) -> None:
    url, packages = index
    result = _publish(url, None, tmp_path / "dist")
    assert result.returncode != 0
    assert "TWINE_PASSWORD is not set" in result.stderr
    assert list(packages.iterdir()) == []
    assert not (tmp_path / "dist").exists()  # checked before anything was built


def test_build_replaces_only_this_packages_files(tmp_path: Path) -> None:
    dist = tmp_path / "shared"
    dist.mkdir()
    (dist / "notes.txt").write_text("someone else's", encoding="utf-8")
    (dist / "other_package-1.0-py3-none-any.whl").write_bytes(b"not ours")
    (dist / "speech_models-0.0.1-py3-none-any.whl").write_bytes(b"an old build of ours")
    result = subprocess.run(
        ["make", "--no-print-directory", "build", f"DIST={dist}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    names = sorted(path.name for path in dist.iterdir())
    assert "notes.txt" in names
    assert "other_package-1.0-py3-none-any.whl" in names
    assert "speech_models-0.0.1-py3-none-any.whl" not in names
    assert sum(name.startswith("speech_models-") for name in names) == 2  # the new wheel and sdist
    wheel = next(dist.glob("speech_models-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(archive.read(n).decode() for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        licences = [n for n in archive.namelist() if n.endswith("/licenses/LICENSE")]
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert len(licences) == 1


def test_publish_install_and_use(index: tuple[str, Path], tmp_path: Path) -> None:
    url, packages = index

    wrong = _publish(url, "not the password", tmp_path / "dist")
    assert wrong.returncode != 0
    assert "refused the credentials" in wrong.stderr
    assert "not the password" not in wrong.stdout + wrong.stderr
    assert list(packages.iterdir()) == []

    published = _publish(url, PASSWORD, tmp_path / "dist")
    assert published.returncode == 0, published.stdout + published.stderr
    assert PASSWORD not in published.stdout + published.stderr
    assert sorted(p.suffix for p in packages.iterdir()) == [".gz", ".whl"]

    again = _publish(url, PASSWORD, tmp_path / "dist")
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert PASSWORD not in again.stdout + again.stderr

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    report = tmp_path / "report.json"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PIP_CONSTRAINT", None)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir", "--quiet"]
    sources = ["--index-url", f"{url}/simple/", "--find-links", str(WHEELHOUSE), "--report", str(report)]
    install = subprocess.run(
        [*pip, *sources, "speech-models[emulator]"], env=env, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = {
        item["metadata"]["name"]: item["download_info"]["url"] for item in json.loads(report.read_text())["install"]
    }
    assert installed["speech-models"].startswith(f"{url}/packages/speech_models-")
    assert installed["speech-models"].endswith(".whl")
    assert all(u.startswith("file:") for name, u in installed.items() if name != "speech-models")

    script = """
import speech_models, speech_models_emulator
from speech_models_emulator import run_emulator
with run_emulator(count=42) as emulator:
    with speech_models.SpeechToTextModels(emulator.url, emulator.key) as client:
        print(speech_models.__file__)
        print(speech_models_emulator.__file__)
        print(len(list(client.list_models(top=10))))
"""
    used = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert used.returncode == 0, used.stderr
    overlay_file, emulator_file, count = used.stdout.split()
    assert Path(overlay_file).is_relative_to(venv)
    assert Path(emulator_file).is_relative_to(venv)
    assert count == "42"


def test_two_clones_build_the_same_bytes(tmp_path: Path) -> None:
    """What `make build` runs, in two fresh clones of this repository's last commit: identical wheel and sdist."""
    hashes = []
    for name in ("one", "two"):
        clone = tmp_path / name
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        epoch = subprocess.run(
            ["git", "-C", str(clone), "log", "-1", "--format=%ct"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dist = tmp_path / f"dist-{name}"
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(clone)],
            env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
            capture_output=True,
            check=True,
        )
        hashes.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dist.iterdir())})
    assert len(hashes[0]) == 2
    assert hashes[0] == hashes[1]
