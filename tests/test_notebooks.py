"""The notebooks in notebooks/ run top to bottom in a fresh kernel, and their widgets are live widget views.

Each notebook is executed with nbclient (a per-cell timeout; the whole run well under a minute), in a
kernel whose working directory is notebooks/ and which imports this checkout. The kernel runs torch on one
thread (OMP_NUM_THREADS=1): on a small shared test machine two threads make a short fit ten times slower.
"""

from __future__ import annotations

import os
import pathlib
import time

import nbclient  # (the test extra installs nbclient and nbformat: missing, these tests fail rather than skip)
import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
CELL_TIMEOUT = 120
TOTAL_BUDGET = 60  # seconds, per notebook

# minimum number of widget views each notebook must display, by the widget class (anywidget's _anywidget_id):
# every notebook is listed, and each count is the number of cells that display that widget
EXPECTED_VIEWS: dict[str, dict[str, int]] = {
    "change_of_variables_1d.ipynb": {"flowviz.widgets.cov1d.ChangeOfVariables1D": 2},
    "flow_player.ipynb": {"flowviz.widgets.player.FlowPlayer": 2},
    "jacobian_lens.ipynb": {"flowviz.widgets.lens.JacobianLens": 3},
    "likelihood_split.ipynb": {"flowviz.widgets.likelihood.LikelihoodSplit": 1},
    "triangular_jacobian.ipynb": {"flowviz.widgets.triangular.TriangularJacobian": 2},
}


def _execute(path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> tuple[nbformat.NotebookNode, float]:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    t0 = time.monotonic()
    client.execute()
    return nb, time.monotonic() - t0


def test_there_are_notebooks() -> None:
    assert any(p.name == "flow_player.ipynb" for p in NOTEBOOKS)


def test_every_notebook_has_expected_live_views() -> None:
    """No notebook escapes the live-view check: each one names the widget views it must show, at least one."""
    assert {p.name for p in NOTEBOOKS} == set(EXPECTED_VIEWS)
    for name, expected in EXPECTED_VIEWS.items():
        assert expected and all(n > 0 for n in expected.values()), name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_and_shows_live_widgets(path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nb, seconds = _execute(path, monkeypatch)
    print(f"{path.name}: {seconds:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    assert seconds < TOTAL_BUDGET, f"{path.name} took {seconds:.0f} s (budget {TOTAL_BUDGET} s)"
    # a lecture notebook shows no warnings raised inside flowviz (they appear as red boxes in the slides)
    stderr = [o.text for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "stream" and o.name == "stderr"]
    ours = [t for t in stderr if "flowviz" in t and "Warning" in t]
    assert not ours, f"{path.name}: warnings from flowviz in the outputs:\n" + "\n".join(ours)

    views = [o["data"][VIEW] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
             if o.output_type in ("display_data", "execute_result") and VIEW in o.get("data", {})]
    state = nb.metadata.get("widgets", {}).get(STATE, {}).get("state", {})
    kinds: dict[str, int] = {}
    for view in views:
        model = state.get(view["model_id"])
        assert model is not None, f"{path.name}: widget view {view['model_id']} has no model in the saved state"
        kind = model["state"].get("_anywidget_id") or model["model_name"]
        kinds[kind] = kinds.get(kind, 0) + 1
    expected = EXPECTED_VIEWS[path.name]
    assert expected, f"{path.name}: no expected widget views"
    for kind, n in expected.items():
        assert n > 0, f"{path.name}: the expected count of {kind} views must be positive"
        assert kinds.get(kind, 0) >= n, f"{path.name}: expected {n} {kind} widget views, got {kinds}"
    # every display of one of our widgets is a live view: none fell back to a text repr (named by its class)
    texts = [o["data"].get("text/plain", "") for c in nb.cells if c.cell_type == "code"
             for o in c.get("outputs", []) if o.output_type in ("display_data", "execute_result")
             and VIEW not in o.get("data", {})]
    for kind in expected:
        cls = kind.rsplit(".", 1)[1]
        assert not [t for t in texts if cls in t], f"{path.name}: {cls} shown as text: {texts}"
