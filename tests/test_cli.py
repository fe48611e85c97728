"""The one command line, `python -m fashion_cnn <command>`, and the Makefile's way into it: every report
option reaches the command as `--name`, read from `setup.OPTIONS` alone."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_cnn import cli
from fashion_cnn.setup import OPTIONS

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("report", "bundle", "list", "plan", "train", "check", "tune", "bench", "models", "mlflow", "dashboard")


def test_every_command_is_served_by_the_one_command_line():
    done = subprocess.run([sys.executable, "-m", "fashion_cnn", "--help"], capture_output=True, text=True)
    assert done.returncode == 0
    for command in COMMANDS:
        assert re.search(rf"^    {command}\s", done.stdout, re.MULTILINE), command  # a long name: help on the next line


def test_plan_prints_a_studys_runs_and_bad_options_are_one_line(capsys, store):
    assert cli.main(["plan", "R0", "--profile", "quick", "--seeds", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "profile quick, seeds 2" in out and "main" in out and "all" in out
    for argv, cause in (
        (["plan", "R0", "--max-seeds", "2", "--seeds", "auto"], "max_seeds 2: give at least 3"),
        (["report", "--margin", "0"], "margin 0: give the equivalence margin in accuracy points"),
        (["report", "--profile", "fast"], "unknown profile 'fast'"),
    ):
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and cause in err[0], err
    assert cli.main(["models", "list", "lenet5*"]) == 0 and "lenet5 " in capsys.readouterr().out


@pytest.mark.parametrize("name", list(OPTIONS))
def test_each_report_option_reaches_the_command_line_from_make_without_a_makefile_edit(name):
    variable, flag = name.upper(), "--" + name.replace("_", "-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}  # not as a sub-make of `make test`
    dry = subprocess.run(["make", "-n", "report", f"{variable}=x"], cwd=ROOT, capture_output=True, text=True, env=env)
    [line] = [line for line in dry.stdout.splitlines() if "-m fashion_cnn report" in line]
    assert f"{flag} x" in line, line


def test_bundle_without_a_report_is_one_line_and_writes_nothing(tmp_path, capsys):
    assert cli.main(["bundle", "--reports", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "report.html is missing: build the report first (make report" in line
    assert list(tmp_path.iterdir()) == []
