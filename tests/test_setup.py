"""`make setup` on a disk too small for the venv stops before installing anything, in one line."""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_setup_refuses_a_full_disk_before_creating_the_venv(tmp_path):
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    free_gb = shutil.disk_usage(tmp_path).free // 2**30
    result = subprocess.run(
        ["make", ".venv/.installed", f"VENV_GB={free_gb + 1}"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode != 0
    cause = [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert len(cause) == 1 and "setup needs" in cause[0] and f"has {free_gb} GB" in cause[0]
    assert not (tmp_path / ".venv").exists()
