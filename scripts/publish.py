"""Upload the built wheel and sdist to the private index named by the environment (``make publish``).

Reads ``TWINE_REPOSITORY_URL``, ``TWINE_USERNAME`` and ``TWINE_PASSWORD`` (a password or an API token; with a
token, the user is usually ``__token__``), refuses to run when one is unset, and never prints the password.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

REQUIRED = ("TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD")
ROOT = Path(__file__).resolve().parent.parent


class PublishError(Exception):
    """Publishing cannot start or did not succeed; the message says why and what to do."""


def check_environment(env: dict[str, str]) -> str:
    """Return the repository URL, or raise PublishError naming the unset variables or a URL with credentials."""
    missing = [name for name in REQUIRED if not env.get(name, "").strip()]
    if missing:
        raise PublishError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            "Set TWINE_REPOSITORY_URL (the index's upload URL), TWINE_USERNAME and TWINE_PASSWORD (password or token)."
        )
    url = env["TWINE_REPOSITORY_URL"].strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishError(f"TWINE_REPOSITORY_URL must be an http(s) URL, not {url!r}")
    if parts.username or parts.password:
        raise PublishError("TWINE_REPOSITORY_URL must not carry credentials: use TWINE_USERNAME and TWINE_PASSWORD")
    return url


def distributions(dist: Path, version: str) -> list[Path]:
    """The wheel and the sdist of `version` in `dist`, or PublishError if either is missing."""
    wheel = sorted(dist.glob(f"speech_models-{version}-*.whl"))
    sdist = sorted(dist.glob(f"speech_models-{version}.tar.gz"))
    if len(wheel) != 1 or len(sdist) != 1:
        raise PublishError(f"{dist} must hold one wheel and one sdist of version {version}: run `make build` first")
    return [*wheel, *sdist]


def explain(output: str, url: str, version: str) -> str:
    """Turn twine's failure output into a message that says what went wrong and what to do."""
    lowered = output.lower()
    if "403" in output or "401" in output or "forbidden" in lowered or "unauthorized" in lowered:
        return f"the index at {url} refused the credentials (check TWINE_USERNAME and TWINE_PASSWORD)"
    if "409" in output or "already exist" in lowered or ("400" in output and "exist" in lowered):
        return (
            f"version {version} already exists on {url}; an index never takes the same version twice: "
            "bump __version__ in overlay/speech_models/_version.py and rebuild"
        )
    if "400" in output:
        # pypiserver (and other indexes) answer a repeated version with a bare "400 Bad Request".
        return (
            f"the index at {url} rejected the upload with 400 Bad Request: version {version} most likely already "
            "exists there (twine check passed, so the metadata is fine); bump __version__ in "
            "overlay/speech_models/_version.py and rebuild"
        )
    return f"the upload to {url} failed"


def upload(files: list[Path], url: str, env: dict[str, str], version: str) -> None:
    twine = Path(sys.executable).parent / "twine"
    command = [str(twine), "upload", "--non-interactive", "--disable-progress-bar", "--repository-url", url]
    result = subprocess.run([*command, *map(str, files)], env=env, capture_output=True, text=True, check=False)
    password = env["TWINE_PASSWORD"]
    output = (result.stdout + result.stderr).replace(password, "[redacted]")
    if result.returncode != 0:
        raise PublishError(f"{explain(output, url, version)}\n--- twine said ---\n{output.strip()}")
    print(output.strip())


def read_version() -> str:
    """The version from its single source, overlay/speech_models/_version.py."""
    text = (ROOT / "overlay" / "speech_models" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if match is None:
        raise PublishError("no __version__ in overlay/speech_models/_version.py")
    return match.group(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dist", type=Path, nargs="?", default=ROOT / "dist", help="folder of the built files")
    parser.add_argument("--check-only", action="store_true", help="check the environment, build nothing")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        version = read_version()
        url = check_environment(env)
        if args.check_only:
            return 0
        files = distributions(args.dist, version)
        print(f"uploading {', '.join(f.name for f in files)} to {url} as {env['TWINE_USERNAME']}")
        upload(files, url, env, version)
    except PublishError as exc:
        print(f"make publish: {exc}", file=sys.stderr)
        return 1
    print(f"published speech-models {version} to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
