"""Studies are data: what a comparison trains (`study`: `Study`, `Arm`, plans of RunConfigs), study files
(`files`: TOML, the built-in ones and a user's) and the five source reports' studies and what they state
(`sources`). Nothing here trains; the command line that does is `cli.studies` (`python -m fashion_cnn plan|train`)."""

from . import sources  # noqa: F401 (registers R0 … R4)
from .loader import get_study, load
from .study import Arm, Job, Study, fold_configs, list_studies, register_study

__all__ = ["Arm", "Job", "Study", "fold_configs", "get_study", "list_studies", "load", "register_study"]
