import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ebbtest  # noqa: E402


@pytest.fixture
def procs(tmp_path):
    """Starts processes (procs.start(argv, name)) and stops every one of them at the end."""
    started = []

    class Starter:
        def start(self, argv, name, env=None):
            p = ebbtest.Process(argv, tmp_path / "logs", name, env)
            started.append(p)
            return p

    yield Starter()
    for p in reversed(started):
        p.stop()
