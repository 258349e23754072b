"""``python -m flowviz.demo``: the README's command-line demo fits, writes its figure and saves the flow."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest
import torch

from flowviz import flows
from flowviz.data import get_dataset
from flowviz.demo import main

REPO = Path(__file__).resolve().parents[1]


def test_demo_fits_writes_the_figure_and_saves_a_flow_that_reproduces_its_nll(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out, saved = tmp_path / "demo.png", tmp_path / "flow.pt"
    assert main(["--data", "moons", "--model", "realnvp", "--steps", "150", "--out", str(out),
                 "--save", str(saved)]) == 0
    printed = capsys.readouterr().out
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (480, 1920)  # 16 x 4 inches at 120 dpi: four panels
    assert image[..., :3].std() > 0.05  # drawn, not one flat colour

    match = re.search(r"test NLL (-?[\d.]+) nats, KL gap (-?[\d.]+) nats", printed)
    assert match, printed
    nll, gap = float(match[1]), float(match[2])
    moons = get_dataset("moons")
    assert gap == pytest.approx(nll - moons.entropy, abs=2e-3)

    # the saved flow is the fitted one: its NLL on fresh moons samples (Monte Carlo, 20k points) agrees
    # with the printed test NLL, and is far below the untrained flow's
    flow = flows.load(saved)
    made = torch.load(saved, weights_only=True)["metadata"]  # how it was made, for flowviz.pretrained
    assert made["made_by"] == "python -m flowviz.demo --data moons --model realnvp --steps 150 --seed 0"
    assert made["test_nll"] == pytest.approx(nll, abs=1e-3) and made["steps"] == 150
    x = moons.sample(20000, torch.Generator().manual_seed(123))
    with torch.no_grad():
        fresh = -float(flow.log_prob(x).mean())
        untrained = -float(flows.realnvp(2).log_prob(x).mean())
    assert fresh == pytest.approx(nll, abs=0.1)
    assert fresh < untrained - 0.5


@pytest.mark.parametrize(("args", "message"), [
    (["--steps", "-1"], "steps must be a whole number >= 0, got -1"),
    (["--steps", "1e3"], "steps must be a whole number >= 0, got '1e3'"),
    (["--model", "glow"], "invalid choice: 'glow'"),
])
def test_demo_refuses_bad_arguments_by_name(args: list[str], message: str) -> None:
    run = subprocess.run([sys.executable, "-m", "flowviz.demo", *args], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 2 and message in run.stderr, run.stderr


@pytest.mark.parametrize(("option", "message"), [
    ("--out", "--out '{tmp}/missing/x.png': the folder '{tmp}/missing' does not exist"),
    ("--save", "--save '{tmp}/missing/f.pt': the folder '{tmp}/missing' does not exist"),
])
def test_demo_checks_its_output_folders_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str], option: str,
                                                        message: str) -> None:
    """A missing folder for --out or --save is an argparse error (exit status 2) before any training: it used to
    train first and then fail with FileNotFoundError."""
    import flowviz.demo

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained before checking the output paths")

    monkeypatch.setattr(flowviz.demo, "fit", no_training)
    target = "missing/x.png" if option == "--out" else "missing/f.pt"
    argv = ["--steps", "5", "--out", str(tmp_path / "demo.png"), option, str(tmp_path / target)]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    with pytest.raises(SystemExit):  # an existing folder given as the figure's file name
        main(["--steps", "5", "--out", str(tmp_path)])
    assert "is a folder; give a file name" in capsys.readouterr().err
