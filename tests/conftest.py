import pytest

from fashion_cnn import config


@pytest.fixture()
def store(tmp_path, monkeypatch):
    """An empty run store for one test."""
    runs = tmp_path / "runs"
    monkeypatch.setattr(config, "RUNS_DIR", runs)
    return runs
