"""`ReportSetup`: the report's options checked and converted in one place, from a command line's values or
a notebook's parameters, and a parameter a notebook does not declare refused in one line."""

import nbformat
import papermill
import pytest

from fashion_cnn import config, report
from fashion_cnn.setup import PARAMETERS, ReportSetup


def test_parameters_are_checked_and_the_margin_is_kept_as_a_fraction():
    setup = ReportSetup.from_parameters(profile="quick", device="cpu", margin=0.25, seeds="auto", max_seeds=6)
    assert setup.margin == pytest.approx(0.0025) and setup.margin_points == pytest.approx(0.25)
    assert (setup.seeds, setup.max_seeds, setup.study.name, setup.resolved) == ("auto", 6, "R0", "cpu")
    assert ReportSetup.from_parameters(profile="full", device="cpu").seeds == 3  # "default": the profile's
    assert ReportSetup.from_parameters(profile="quick", seeds="4").seeds == 4
    assert ReportSetup.from_parameters().margin == pytest.approx(config.MARGIN)  # the defaults are the notebooks'
    for bad, cause in (
        ({"margin": 0}, "give the equivalence margin in accuracy points"),
        ({"margin": 100}, "give the equivalence margin in accuracy points"),
        ({"max_seeds": 2}, "give at least 3"),
        ({"seeds": "0"}, "give a number of seeds"),
        ({"profile": "fast"}, "unknown profile 'fast'"),
        ({"study": "R9"}, "unknown study 'R9'"),
        ({"device": "tpu"}, "unknown device 'tpu'"),
        ({"precision": "fp16"}, "use 'fp32' or 'bf16'"),
        ({"sedds": 3}, "unknown parameter 'sedds'"),
    ):
        with pytest.raises(ValueError, match=cause):
            ReportSetup.from_parameters(**bad)


def test_a_setup_round_trips_through_its_parameters():
    setup = ReportSetup.from_parameters(profile="quick", device="cpu", study="R2", seeds="auto", margin=0.3)
    again = ReportSetup.from_parameters(**setup.parameters())
    assert again == setup and setup.parameters()["margin"] == 0.3


@pytest.mark.parametrize("path", report.discover(), ids=lambda p: p.name)
def test_a_notebooks_defaults_are_the_setups(path):
    declared = papermill.inspect_notebook(str(path))
    for name in set(declared) & set(PARAMETERS):
        default = declared[name]["default"]
        assert eval(default) == PARAMETERS[name], f"{path.name}: {name} = {default}"


def _notebook(path, parameters: str, body: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(parameters), nbformat.v4.new_code_cell(body)]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": report.KERNEL, "display_name": "Python (fashion-cnn)", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_parameter_the_notebook_does_not_declare_is_refused_in_one_line(tmp_path):
    nb = _notebook(
        tmp_path / "nb.ipynb",
        'profile: str = "full"\nseeds: str = "default"',
        "from fashion_cnn.setup import ReportSetup\nsetup = ReportSetup.from_notebook(globals())\nprint(setup.seeds)",
    )
    ran = papermill.execute_notebook(str(nb), str(tmp_path / "ok.ipynb"), {"profile": "quick", "seeds": "5"})
    assert [o["text"].strip() for o in ran.cells[-1].outputs if o.get("name") == "stdout"] == ["5"]
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(str(nb), str(tmp_path / "typo.ipynb"), {"profile": "quick", "sedds": "5"})
    assert caught.value.ename == "ConfigError"
    assert "this notebook has no parameter 'sedds': its parameters are profile, seeds" in caught.value.evalue
