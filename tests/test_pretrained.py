"""flowviz.pretrained: the flows shipped with flowviz load, are what their metadata says, and are fresh copies."""

from __future__ import annotations

import pytest
import torch

from flowviz import flows, pretrained
from flowviz.data import get_dataset


def test_the_shipped_moons_realnvp_is_the_fit_its_metadata_describes() -> None:
    assert "moons-realnvp" in pretrained.available()
    made = pretrained.info("moons-realnvp")
    assert made["made_by"] == "python -m flowviz.demo --data moons --model realnvp --steps 3000 --seed 0"
    flow = pretrained.load("moons-realnvp")
    assert isinstance(flow, flows.Flow) and len(flow.layers) == 8
    assert all(isinstance(layer, flows.AffineCoupling) for layer in flow.layers)
    # Monte Carlo NLL on fresh moons samples (not the test set it was scored on): agrees with the recorded
    # test NLL, and the KL gap to the true entropy is small (an untrained realnvp is ~2 nats off)
    moons = get_dataset("moons")
    with torch.no_grad():
        nll = -float(flow.log_prob(moons.sample(40_000, torch.Generator().manual_seed(11))).mean())
    assert nll == pytest.approx(made["test_nll"], abs=0.03)
    assert made["entropy"] == pytest.approx(moons.entropy)
    assert nll - moons.entropy < 0.1


def test_each_load_is_a_fresh_copy_and_unknown_names_are_refused() -> None:
    a, b = pretrained.load(), pretrained.load()
    with torch.no_grad():
        a.layers[0].conditioner[0].bias.add_(1.0)
    assert not torch.equal(a.layers[0].conditioner[0].bias, b.layers[0].conditioner[0].bias)
    assert torch.equal(pretrained.load().layers[0].conditioner[0].bias, b.layers[0].conditioner[0].bias)
    with pytest.raises(ValueError, match=r"no pretrained flow 'moons-glow'; available: .*moons-realnvp"):
        pretrained.load("moons-glow")
