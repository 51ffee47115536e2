"""Run a command line that serves the emulator (``python -m speech_models_emulator`` or ``speech-models emulator``)
in a child process, for the tests of those command lines."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serving(*module_and_args: str) -> Iterator[tuple[str, str]]:
    """``python -m`` `module_and_args`; yields the URL (its first line on stdout, printed once it listens) and its
    start-up line on stderr; stops it on exit."""
    command = [sys.executable, "-m", *module_and_args]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stderr is not None
            url = child.stdout.readline().strip()
            yield url, child.stderr.readline()
        finally:
            child.terminate()
            child.wait(10)
