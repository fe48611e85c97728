"""Where a search's study lives: the SQLite file `reports/tune.sqlite3` by default, or the RDB of any
SQLAlchemy URL (`--storage`), opened with a one-line error when it cannot be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna

from .. import config as cfg
from .space import TuneError

DRIVERS = {"postgresql": "psycopg2-binary", "mysql": "PyMySQL (and use mysql+pymysql://)"}  # pip names


def default_storage() -> str:
    """`sqlite:///<REPORTS_DIR>/tune.sqlite3`, beside the run store."""
    return f"sqlite:///{cfg.REPORTS_DIR / 'tune.sqlite3'}"


def missing_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (opening the storage would create it, empty, so
    readers check first); None for a file that exists or another database."""
    if url.startswith("sqlite:///") and not (path := Path(url.removeprefix("sqlite:///"))).is_file():
        return path
    return None


def redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (sqlalchemy missing or the URL unparseable: show it as given)
        return url


def open_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """The RDB storage at `url` (default: `default_storage()`).

    Raises TuneError (one line: cause and fix) when the URL is malformed, its driver is missing or the
    database cannot be reached.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    url = url or default_storage()
    shown = redact(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise TuneError(
            f"storage {url!r} is not a database URL: use sqlite:////abs/path.sqlite3 or "
            f"postgresql://user:password@host:5432/db (or omit --storage for {default_storage()})"
        ) from None
    engine_kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise TuneError(
                    f"storage {shown}: cannot create the folder {folder} ({err.strerror}); "
                    f"choose a writable path or omit --storage"
                ) from None
        engine_kwargs["connect_args"] = {"timeout": 60}  # wait for another writer instead of failing
    elif parsed.get_backend_name() in ("postgresql", "mysql"):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except ImportError:
        driver = DRIVERS.get(parsed.get_backend_name(), "the SQLAlchemy driver of this database")
        raise TuneError(
            f"storage {shown} needs a database driver that is not installed: pip install {driver} "
            f"into .venv, or omit --storage"
        ) from None
    except (SQLAlchemyError, OSError) as err:
        cause = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
        raise TuneError(
            f"cannot reach storage {shown} ({cause}); check host, port, credentials and that the "
            f"database exists, or omit --storage to use {default_storage()}"
        ) from None
