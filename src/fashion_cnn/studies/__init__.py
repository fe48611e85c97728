"""Studies: what a comparison trains (`study`), study files (`files`: TOML, the built-in ones and a
user's), the five source reports' studies and what they state (`sources`), what a section trains beyond a study's runs (`evaluation`: the test comparison of its
best models, k-fold), and the command line (`python -m fashion_cnn.studies`, `cli`)."""

from . import sources  # noqa: F401 (registers R0 … R4)
from .cli import main, plan_table, select
from .evaluation import TEST_COMPARED, MainView, TestComparison, compare_on_test, fold_configs, main_view
from .files import get_study, load
from .study import PILOT_SEEDS, Arm, Job, SeedPlan, Study, list_studies, register_study, seed_plan

__all__ = [
    "PILOT_SEEDS",
    "TEST_COMPARED",
    "Arm",
    "Job",
    "MainView",
    "SeedPlan",
    "Study",
    "TestComparison",
    "compare_on_test",
    "fold_configs",
    "get_study",
    "list_studies",
    "load",
    "main",
    "main_view",
    "plan_table",
    "register_study",
    "seed_plan",
    "select",
]
