"""``python -m speech_models_emulator.healthcheck``: exit 0 when the emulator in this container answers its health
route, 1 otherwise (the image's ``HEALTHCHECK``; no curl in a slim image).

It asks ``127.0.0.1`` on ``$SPEECH_MODELS_EMULATOR_PORT`` (8765 by default): change the port through that variable,
not ``--port``, for the check to follow it.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from .__main__ import PORT_ENV


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get(PORT_ENV) or 8765}/_emulator/health"
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
        with opener.open(url, timeout=2) as response:
            healthy = response.status == 200
    except (OSError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
