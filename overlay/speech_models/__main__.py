"""``python -m speech_models``: the ``speech-models`` command line."""

from ._cli import run

run()
