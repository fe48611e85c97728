"""fashion_cnn: reproducible CNN experiments on Fashion-MNIST (package behind the notebooks)."""

from .config import PROFILES, REPORTS_DIR, RUNS_DIR, get_profile, resolve_device
from .data import CLASSES, DataError, load
from .models import count_parameters, create_model, list_models, model_info, summary
from .train.runs import RunConfig, __version__, run_key
from .train.store import Run, Store
from .train.training import get_or_train

__all__ = [
    "CLASSES",
    "PROFILES",
    "REPORTS_DIR",
    "RUNS_DIR",
    "DataError",
    "Run",
    "RunConfig",
    "Store",
    "__version__",
    "count_parameters",
    "create_model",
    "get_or_train",
    "get_profile",
    "list_models",
    "load",
    "model_info",
    "resolve_device",
    "run_key",
    "summary",
]
