"""The summary (notebook 00): section 2's main view and section 3's test evaluation, read from the same
runs the sections show, the key results per model and where the runs were trained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..present import tables
from ..setup import ReportSetup
from ..train.store import provenance
from . import test_evaluation, variants


@dataclass
class Summary:
    """The summary's result: the sections' own results, not numbers of its own."""

    variants: variants.Variants
    test: test_evaluation.TestComparison
    provenance: dict[str, Any]  # versions, device, dataset checksums, speed settings

    @property
    def key_results(self) -> pd.DataFrame:
        """One row per model: validation accuracy, test accuracy where retrained, parameters, seconds per epoch."""
        return tables.key_results(self.variants.final, self.variants.facts, self.test.final, self.test.label)


def run(setup: ReportSetup, top: int = 2) -> Summary:
    """Sections 2 and 3 as they ran (or read from the store), for the summary."""
    main = variants.run(setup)
    return Summary(main, test_evaluation.run(setup, top, main), provenance(setup.resolved))
