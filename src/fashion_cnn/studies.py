"""The named studies of the source reports: a baseline, its variants and the settings the report used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import Profile
from .runs import RunConfig


@dataclass(frozen=True)
class Study:
    name: str  # "R0" … "R4"
    title: str  # one line for the report
    baseline: str  # registered model name
    variants: tuple[str, ...]  # registered model names compared with the baseline
    settings: dict[str, Any] = field(default_factory=dict)  # RunConfig fields the source report used
    cumulative: bool = False  # each variant builds on the previous one (compare with the previous too)
    notes: str = ""  # where the settings come from, and what we had to choose

    @property
    def models(self) -> tuple[str, ...]:
        return (self.baseline, *self.variants)

    def config(self, model: str, profile: Profile, seed: int = 0, device: str = "auto", **changes) -> RunConfig:
        """The RunConfig of `model` in this study under `profile` (epochs and subset from the profile)."""
        settings = {"epochs": profile.epochs, "subset": profile.subset, **self.settings, **changes}
        if profile.name != "full":
            settings["epochs"] = min(settings["epochs"], profile.epochs)
        return RunConfig(model, seed=seed, device=device, **settings)

    def configs(self, profile: Profile, seeds: int | None = None, device: str = "auto") -> list[RunConfig]:
        """Every model × seed of the study, model-major."""
        n = profile.seeds if seeds is None else seeds
        return [self.config(m, profile, s, device) for m in self.models for s in range(n)]


_STUDIES: dict[str, Study] = {}


def register_study(study: Study) -> Study:
    _STUDIES[study.name] = study
    return study


def list_studies() -> list[str]:
    return list(_STUDIES)


def get_study(name: str) -> Study:
    if name not in _STUDIES:
        raise ValueError(f"unknown study {name!r}: use one of {', '.join(_STUDIES)}")
    return _STUDIES[name]


register_study(Study(
    name="R0",
    title="LeNet-5 and four cumulative changes: 3x3 kernels, LeakyReLU, dropout, average pooling",
    baseline="lenet5",
    variants=("lenet5_3x3", "lenet5_3x3_leaky", "lenet5_3x3_leaky_dropout", "lenet5_3x3_leaky_dropout_avgpool"),
    settings=dict(optimizer="adam", lr=1e-3, batch_size=64, epochs=15, val_fraction=0.2),
    cumulative=True,
    notes="R0 trained in PyTorch with Adam for 15 epochs; its learning rate, batch size and split are not "
          "stated, so we use Adam's default 1e-3, batch 64 and a stratified 48k/12k split.",
))
