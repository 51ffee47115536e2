"""The emulator as an OCI image: ``make image`` builds it, ``make image-test`` builds it, runs it and uses it.

The image is built from the project's own wheels (this tree's, built as ``make build`` does, and the wheelhouse
``make venv`` fills), so the base image is the only download. The engine is podman where present, else docker
(``CONTAINER_ENGINE`` names another). ``BASE`` names the base image; its Python must be the one the wheels were
built for.

``image-test`` needs an engine that runs containers; where there is none, or it cannot run one here, it says so
plainly and exits 0 (the image is then not tested); once an image is built, every failure is an exit 1. With no
``BASE`` and Debian's ``mmdebstrap`` at hand, it makes its base from Debian's packages (no registry needed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BASE = "docker.io/library/python:3.11-slim"
DEBIAN_BASE = "localhost/speech-models-base:bookworm"
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates"
COUNT = 120  # models the tested container serves: three pages of 50
KEY = "image-test-key-0123456789"
IMAGE_USER = "10001"


class NotHere(Exception):
    """This machine cannot build or run the image (no engine, no base): not a failure of the image."""


def version() -> str:
    found = re.search(r'__version__ = "([^"]+)"', (ROOT / "overlay/speech_models/_version.py").read_text())
    if found is None:
        raise SystemExit("no __version__ in overlay/speech_models/_version.py")
    return found.group(1)


def engine() -> str:
    named = os.environ.get("CONTAINER_ENGINE")
    for candidate in [named] if named else ["podman", "docker"]:
        found = shutil.which(candidate)
        if found:
            return found
    raise NotHere(f"{named or 'neither podman nor docker'} is not installed")


def run(*command: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        shown = " ".join(command)
        raise RuntimeError(f"{shown} exited {result.returncode}: {(result.stderr or result.stdout).strip()[-1500:]}")
    return result


def image_exists(tool: str, image: str) -> bool:
    return run(tool, "image", "inspect", image, check=False).returncode == 0


def debian_base(tool: str) -> str:
    """``DEBIAN_BASE``, made from Debian's packages with mmdebstrap the first time (about 90 s, 220 MB)."""
    if image_exists(tool, DEBIAN_BASE):
        return DEBIAN_BASE
    mmdebstrap = shutil.which("mmdebstrap")
    if mmdebstrap is None:
        raise NotHere(f"no BASE given, {DEFAULT_BASE} not at hand, and no mmdebstrap to make a base")
    with tempfile.TemporaryDirectory() as folder:
        tarball = Path(folder) / "base.tar"
        print(f"making {DEBIAN_BASE} from Debian's packages ({DEBIAN_PACKAGES})", flush=True)
        debian = ["--quiet", "--variant=apt", f"--include={DEBIAN_PACKAGES}", "bookworm", str(tarball)]
        made = run(mmdebstrap, *debian, check=False, timeout=900)
        if made.returncode != 0:
            raise NotHere(f"mmdebstrap could not make a base: {made.stderr.strip()[-500:]}")
        run(tool, "import", str(tarball), DEBIAN_BASE)
    return DEBIAN_BASE


def choose_base(tool: str, asked: str | None) -> str:
    if asked:
        return asked
    if image_exists(tool, DEFAULT_BASE):
        return DEFAULT_BASE
    if shutil.which("mmdebstrap"):
        return debian_base(tool)
    return DEFAULT_BASE  # the build pulls it


def wheel(folder: Path) -> Path:
    """This tree's wheel, built into `folder` as ``make build`` builds it (same backend, same timestamps)."""
    epoch = run("git", "-C", str(ROOT), "log", "-1", "--format=%ct", check=False).stdout.strip() or "315532800"
    command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(folder), str(ROOT)]
    built = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": epoch})
    if built.returncode != 0:
        raise RuntimeError(f"the wheel did not build: {built.stderr.strip()[-1500:]}")
    return next(folder.glob(f"speech_models-{version()}-*.whl"))


def build(tool: str, base: str) -> str:
    """Builds ``speech-models-emulator:VERSION`` on `base` from this tree's wheel and the wheelhouse ``make venv``
    filled; returns the image's name."""
    release = version()
    wheelhouse = ROOT / ".venv" / "wheelhouse"
    image = f"speech-models-emulator:{release}"
    with tempfile.TemporaryDirectory() as folder:
        context = Path(folder)
        (context / "wheels").mkdir()
        for built in [wheel(context / "dist"), *sorted(wheelhouse.glob("*.whl"))]:
            shutil.copy(built, context / "wheels" / built.name)
        shutil.copy(ROOT / "Containerfile", context / "Containerfile")
        command = [tool, "build", "--tag", image, "--build-arg", f"BASE={base}", "--build-arg", f"VERSION={release}"]
        if Path(tool).name == "podman":
            command += ["--format", "docker"]  # the OCI format drops HEALTHCHECK
        started = time.monotonic()
        run(*command, "--file", str(context / "Containerfile"), str(context), timeout=900)
    print(f"built {image} on {base} in {time.monotonic() - started:.1f} s", flush=True)
    return image


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(tool: str, image: str, name: str, port: int) -> tuple[str, str]:
    """Runs `image` as `name`, reachable at 127.0.0.1:`port`: through a mapped port (``-p``, links through
    ``--advertise``) where the engine's networking allows, else on the host's network told to keep to loopback.
    Returns the URL and how it is reached."""
    url = f"http://127.0.0.1:{port}"
    options = ["--count", str(COUNT), "--key", KEY]
    detached = [tool, "run", "--detach", "--name", name]
    mapped = run(*detached, "--publish", f"127.0.0.1:{port}:8765", image, *options, "--advertise", url, check=False)
    if mapped.returncode == 0:
        return url, "a mapped port (-p 127.0.0.1:PORT:8765, --advertise)"
    run(tool, "rm", "--force", name, check=False)
    run(*detached, "--network", "host", image, *options, "--host", "127.0.0.1", "--port", str(port))
    return url, f"the host's network (-p failed: {mapped.stderr.strip().splitlines()[-1][:200]})"


def wait_healthy(tool: str, name: str, timeout: float = 60) -> float:
    """Seconds until the image's own HEALTHCHECK passes in `name`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if Path(tool).name == "podman":
            healthy = run(tool, "healthcheck", "run", name, check=False).returncode == 0
        else:
            status = run(tool, "inspect", "--format", "{{.State.Health.Status}}", name, check=False)
            healthy = status.stdout.strip() == "healthy"
        if healthy:
            return time.monotonic() - started
        if run(tool, "inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
            raise RuntimeError(f"the container stopped: {run(tool, 'logs', name, check=False).stderr[-1500:]}")
        time.sleep(0.1)
    raise RuntimeError(f"the container was not healthy within {timeout:g} s")


def use(url: str) -> None:
    """Lists every model through the container with the SDK (pages of 50: links that must work from outside) and
    with the command line."""
    from speech_models import SpeechToTextModels

    with SpeechToTextModels(url, KEY) as client:
        pages = list(client.list_models(top=50).by_page())
        listed = [model.self_ for page in pages for model in page]
    if len(pages) != 3 or len(set(listed)) != COUNT or not all(str(link).startswith(url) for link in listed):
        raise RuntimeError(f"the SDK listed {len(listed)} models in {len(pages)} pages, not {COUNT} in 3, at {url}")
    command = [sys.executable, "-m", "speech_models", "models", "list", "--endpoint", url, "--key", KEY, "-o", "jsonl"]
    lines = run(*command, "--top", "50").stdout.splitlines()
    if len(lines) != COUNT:
        raise RuntimeError(f"the command line listed {len(lines)} models, not {COUNT}")
    print(f"listed {COUNT} models in 3 pages through the container, with the SDK and with the command line")


@contextlib.contextmanager
def docker_api(tool: str) -> Iterator[str]:
    """A Docker-compatible API for testcontainers: podman's own service on a socket of its own for the check's
    duration, or docker's (``DOCKER_HOST`` or its default socket)."""
    if Path(tool).name != "podman":
        yield os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return
    with tempfile.TemporaryDirectory(prefix="speech-models-podman-") as folder:
        address = f"unix://{folder}/podman.sock"
        service = subprocess.Popen(
            [tool, "system", "service", "--time=0", address], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 30
            while not Path(folder, "podman.sock").exists():
                if service.poll() is not None or time.monotonic() > deadline:
                    said = service.stderr.read().decode(errors="replace")[-500:] if service.stderr else ""
                    raise RuntimeError(f"podman system service did not open its socket: {said.strip()}")
                time.sleep(0.05)
            yield address
        finally:
            service.terminate()
            service.wait(timeout=30)


def guide_snippet() -> str:
    """The contract-testing guide's testcontainers snippet, which this check runs as it stands."""
    guide = (ROOT / "docs" / "contract-testing.md").read_text(encoding="utf-8")
    found = [
        block
        for block in re.findall(r"^```python\n(.*?)^```$", guide, re.MULTILINE | re.DOTALL)
        if "speech_models_emulator.testcontainers" in block
    ]
    if len(found) != 1:
        raise RuntimeError(f"docs/contract-testing.md has {len(found)} testcontainers snippets, not 1")
    return str(found[0])


def testcontainers_check(tool: str, image: str) -> None:
    """``speech_models_emulator.testcontainers`` as a test suite uses it: started through the engine's Docker API,
    waited for, listed through with the SDK and the command line (links through its published port), published on
    loopback only, and removed at the ``with`` block's end."""
    with docker_api(tool) as address:
        os.environ["DOCKER_HOST"] = address
        # The engine runs on this machine: reach the container through its published port on localhost, even when
        # this process runs in a container itself. No reaper: its image is not here, and the with block removes ours.
        os.environ["TESTCONTAINERS_CONNECTION_MODE"] = "docker_host"
        os.environ["TESTCONTAINERS_RYUK_DISABLED"] = "true"
        from speech_models_emulator.testcontainers import SpeechModelsEmulatorContainer

        exec(compile(guide_snippet(), "docs/contract-testing.md (testcontainers)", "exec"), {"__name__": "guide"})  # noqa: S102
        print("testcontainers: the guide's snippet listed 120 models in pages of 50, 50 and 20")
        started = time.monotonic()
        with SpeechModelsEmulatorContainer(image, key=KEY, count=COUNT) as emulator:
            ready = time.monotonic() - started
            container = emulator.get_wrapped_container()
            use(emulator.endpoint)
            container.reload()
            bindings = container.attrs["HostConfig"]["PortBindings"]["8765/tcp"]
            if [binding["HostIp"] for binding in bindings] != ["127.0.0.1"]:
                raise RuntimeError(f"the testcontainers module published the emulator on {bindings}, not loopback only")
        if run(tool, "container", "inspect", container.id, check=False).returncode == 0:
            raise RuntimeError("the testcontainers module left its container behind")
    print(f"testcontainers: {emulator.endpoint} answered health {ready:.2f} s after start(), on loopback only, removed")


def replay_check(tool: str, image: str) -> None:
    """The image replays a mounted cassette (the guide's "Record and replay"): recorded here from an emulator on
    loopback through the recording proxy, then served by the container and listed through with the SDK."""
    import speech_models as sm
    from speech_models_emulator import run_emulator
    from speech_models_emulator.cassette import create_recorder_app

    with tempfile.TemporaryDirectory(prefix="speech-models-cassette-") as folder:
        cassette = Path(folder) / "models.cassette.json"
        with run_emulator(count=COUNT, key=KEY) as live:
            recording = create_recorder_app(live.url, cassette)
            with run_emulator(recording) as proxy, sm.SpeechToTextModels(proxy.url, KEY) as client:
                recorded = [model.display_name for model in client.list_models(top=50)]
        cassette.chmod(0o644)
        Path(folder).chmod(0o755)  # the image's user reads it
        name, port = f"speech-models-replay-test-{os.getpid()}", free_port()
        url = f"http://127.0.0.1:{port}"
        try:
            published, mounted = f"127.0.0.1:{port}:8765", f"{folder}:/cassettes:ro"
            options = ["--replay", "/cassettes/models.cassette.json", "--advertise", url]
            run(tool, "run", "--detach", "--name", name, "--publish", published, "--volume", mounted, image, *options)
            wait_healthy(tool, name)
            with sm.SpeechToTextModels(url, "any-key") as client:
                replayed = [model.display_name for model in client.list_models(top=50)]
        finally:
            run(tool, "rm", "--force", name, check=False)
    if replayed != recorded:
        raise RuntimeError(f"the image replayed {len(replayed)} models of the {len(recorded)} recorded")
    print(f"replayed a mounted cassette: the {len(recorded)} models recorded, in order, through the container")


def test(tool: str, image: str) -> None:
    name = f"speech-models-image-test-{os.getpid()}"
    port = free_port()
    started = time.monotonic()
    try:
        url, reached = start(tool, image, name, port)
        healthy = wait_healthy(tool, name)
        print(f"healthy {time.monotonic() - started:.2f} s after podman run ({healthy:.2f} s after it returned)")
        print(f"reached through {reached}")
        use(url)
        user = run(tool, "exec", name, "/opt/speech-models/bin/python", "-c", "import os; print(os.getuid())")
        if user.stdout.strip() != IMAGE_USER:
            raise RuntimeError(f"the emulator runs as uid {user.stdout.strip()}, not {IMAGE_USER}")
        print(f"runs as uid {IMAGE_USER}, not root")
        stopping = time.monotonic()
        run(tool, "stop", "--time", "10", name)
        stopped = time.monotonic() - stopping
        code = run(tool, "inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        if code != "0":
            raise RuntimeError(f"stopped with exit code {code} after {stopped:.2f} s: SIGTERM was not handled")
        print(f"stopped on SIGTERM in {stopped:.2f} s, exit code 0")
    finally:
        run(tool, "rm", "--force", name, check=False)
    size = int(run(tool, "image", "inspect", "--format", "{{.Size}}", image).stdout.strip())
    print(f"image {image}: {size / 1e6:.0f} MB")
    replay_check(tool, image)
    testcontainers_check(tool, image)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["build", "test"])
    parser.add_argument("--base", default=os.environ.get("BASE") or None, help=f"the base image ({DEFAULT_BASE})")
    args = parser.parse_args(argv)
    try:
        tool = engine()
        if args.action == "test":
            info = run(tool, "info", check=False)
            if info.returncode != 0:
                raise NotHere(f"{tool} info failed: {info.stderr.strip()[-300:]}")
        base = choose_base(tool, args.base)
        if args.action == "test" and base == DEFAULT_BASE and not image_exists(tool, base):
            pulled = run(tool, "pull", base, check=False)
            if pulled.returncode != 0:
                raise NotHere(f"the base {base} cannot be pulled: {pulled.stderr.strip()[-300:]}")
    except NotHere as why:
        if args.action == "test":
            print(f"make image-test: did not run: {why}")
            return 0
        print(f"make image: {why}", file=sys.stderr)
        return 1
    try:
        image = build(tool, base)
        if args.action == "test":
            test(tool, image)
    except (RuntimeError, subprocess.TimeoutExpired) as failed:
        print(f"make image{'-test' if args.action == 'test' else ''}: {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
