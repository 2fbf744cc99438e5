"""Create the braze-client baseline's own virtualenv, bench/.venv-braze-client, from PyPI.

braze-client 2.3.3 (the newest release) pins tenacity>=5,<6. tenacity 5.x decorates with
`asyncio.coroutine`, which Python 3.11 removed, so `import braze.client` fails with the pinned
set. This venv installs braze-client with --no-deps beside tenacity 9.2.1 (whose `retry`,
`stop_after_attempt` and `wait_random_exponential` braze-client uses unchanged) and the
project's requests. It is kept apart from .venv so the project never carries that conflict.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

VENV = Path(__file__).resolve().parent / ".venv-braze-client"
BRAZE_CLIENT = "braze-client==2.3.3"
BESIDE = ("tenacity==9.2.1", "requests==2.32.5")
STAMP_TEXT = " ".join((BRAZE_CLIENT, *BESIDE))


def python() -> Path:
    return VENV / "bin" / "python"


def ensure() -> Path:
    """Create or reuse the venv; return its python. Raises CalledProcessError on failure."""
    stamp = VENV / ".installed"
    if stamp.exists() and stamp.read_text() == STAMP_TEXT and python().exists():
        return python()
    if not python().exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", BRAZE_CLIENT], check=True)
    subprocess.run([*pip, *BESIDE], check=True)
    subprocess.run([str(python()), "-c", "import braze.client"], check=True)
    stamp.write_text(STAMP_TEXT)
    return python()


if __name__ == "__main__":
    print(ensure())
