import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def run_cli():
    """Run the real command line in a subprocess: exit code, stdout, stderr."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
        # Piped output is 150 columns wide unless COLUMNS says otherwise (cli_tables): tests read
        # whole tables, so the width must not depend on the shell they run from.
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        return subprocess.run([sys.executable, "-m", "llmhw", *args], capture_output=True, text=True,
                              cwd=cwd or ROOT, timeout=120, env=env)

    return run


@pytest.fixture
def write_yaml(tmp_path):
    def write(data, name: str = "scenario.yaml") -> Path:
        p = tmp_path / name
        p.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
        return p

    return write


# Each paper study runs once per test session: its own tests and the report's browser test share
# the result (a study takes 2-15 s; running each twice would add a minute to the suite).
_STUDIES: dict = {}


@pytest.fixture(scope="session")
def study_of():
    import importlib

    def get(name: str):
        if name not in _STUDIES:
            from llmhw.studies import style

            style.apply()                  # as `llmhw study` draws them, whatever ran before
            _STUDIES[name] = importlib.import_module(f"llmhw.studies.{name}").run()
        return _STUDIES[name]

    return get
