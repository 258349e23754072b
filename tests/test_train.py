"""Maximum-likelihood fitting: it learns, it can be paused/stopped, it survives non-finite losses."""

from __future__ import annotations

import math
import threading
import time
import warnings

import numpy as np
import pytest
import torch

from flowviz import flows, train
from flowviz.data import get_dataset


def test_fit_on_moons_reaches_within_a_tenth_of_a_nat_of_the_true_entropy() -> None:
    torch.manual_seed(0)
    flow = flows.nsf(2)
    moons = get_dataset("moons")
    history = train.fit(flow, moons, steps=800, batch_size=512, lr=1e-3, seed=0, progress=False, eval_every=200)
    assert history.status == "done"
    # independent test set, evaluated here (not the trainer's own)
    test = moons.sample(20_000, torch.Generator().manual_seed(123))
    with torch.no_grad():
        nll = float(-flow.log_prob(test).mean())
    assert moons.entropy is not None
    print(f"moons NSF after 800 steps: test NLL {nll:.4f}, KL gap {nll - moons.entropy:.4f}")
    assert nll - moons.entropy < 0.1, nll
    assert nll - moons.entropy > -0.02  # KL >= 0 up to Monte Carlo error: the NLL cannot beat the entropy
    assert history.train_nll[-1] < history.train_nll[0] - 1.0
    assert len(history.steps) == 800 and history.test_steps[-1] == 800


def test_history_records_every_step_and_test_nll_every_eval() -> None:
    flow = flows.realnvp(2, layers=2, hidden=16)
    history = train.fit(flow, "8gaussians", steps=25, batch_size=64, progress=False, eval_every=10)
    assert history.steps == list(range(25))
    assert history.test_steps == [10, 20, 25]
    assert all(math.isfinite(v) for v in history.train_nll + history.test_nll)


def test_user_array_is_accepted_and_split_into_train_and_test() -> None:
    rng = np.random.default_rng(0)
    data = rng.normal(size=(1000, 2)) * [2.0, 0.5] + [1.0, -1.0]
    flow = flows.Flow([flows.Affine(2)])
    trainer = train.Trainer(flow, data, batch_size=256, lr=5e-2, seed=0)
    assert trainer.test is not None and trainer.test.shape == (100, 2)
    trainer.run(400, progress=False)
    # the maximum-likelihood affine flow recovers the mean and the standard deviation
    torch.testing.assert_close(flow.layers[0].shift.detach(), torch.tensor([1.0, -1.0]), atol=0.15, rtol=0)
    torch.testing.assert_close(flow.layers[0].scale.detach().abs(), torch.tensor([2.0, 0.5]), atol=0.15, rtol=0)


def test_pause_resume_and_stop_from_another_thread() -> None:
    flow = flows.realnvp(2, layers=2, hidden=16)
    trainer = train.Trainer(flow, "moons", batch_size=64)
    result: dict[str, train.History] = {}
    worker = threading.Thread(target=lambda: result.setdefault("h", trainer.run(100_000, progress=False)))
    worker.start()
    while trainer.step_count < 5:
        time.sleep(0.01)
    trainer.pause()
    time.sleep(0.2)
    frozen = trainer.step_count
    time.sleep(0.3)
    assert trainer.step_count <= frozen + 1 and trainer.history.status == "paused"
    trainer.resume()
    while trainer.step_count < frozen + 5:
        time.sleep(0.01)
    trainer.stop()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert result["h"].status == "stopped" and trainer.step_count < 100_000


def test_non_finite_loss_restores_last_good_parameters_and_names_the_layer() -> None:
    flow = flows.realnvp(2, layers=4, hidden=16)
    trainer = train.Trainer(flow, "moons", batch_size=64)
    for _ in range(2):
        trainer.step()
    good = {k: v.clone() for k, v in flow.state_dict().items()}
    trainer.step()  # its loss is evaluated at `good`: the last parameters known to give a finite loss
    # poison layer 3's conditioner after a (good) step
    with torch.no_grad():
        flow.layers[2].conditioner[0].weight.fill_(float("nan"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.run(10, progress=False)
    assert history.status == "non-finite"
    assert "layer 3" in history.message and "restored" in history.message
    assert any("non-finite" in str(w.message) for w in caught)
    for k, v in flow.state_dict().items():
        assert torch.isfinite(v).all(), k
    # restored to the last parameters at which the loss was finite
    for k, v in flow.state_dict().items():
        torch.testing.assert_close(v, good[k])
    assert len(history.train_nll) == 3  # the non-finite step was not recorded as a step


def test_progress_bar_prints_unless_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    flow = flows.realnvp(2, layers=2, hidden=8)
    train.fit(flow, "moons", steps=3, batch_size=16, progress=False)
    assert "fitting" not in capsys.readouterr().err
    train.fit(flow, "moons", steps=3, batch_size=16, progress=True)
    assert "fitting" in capsys.readouterr().err


def test_trainer_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    flow = flows.maf(2, layers=2, hidden=16)
    trainer = train.Trainer(flow, "crescent", batch_size=64)
    trainer.run(20, progress=False)
    trainer.save(str(tmp_path / "f.pt"))
    back = train.load(tmp_path / "f.pt")
    x = torch.randn(30, 2)
    assert torch.equal(back.log_prob(x), flow.log_prob(x))
    payload = torch.load(tmp_path / "f.pt", weights_only=True)
    assert payload["metadata"]["history"]["steps"] == list(range(20))


def test_bad_arguments_are_clear_errors() -> None:
    flow = flows.realnvp(2, layers=2)
    with pytest.raises(ValueError, match="batch_size"):
        train.Trainer(flow, "moons", batch_size=0)
    with pytest.raises(ValueError, match="lr"):
        train.Trainer(flow, "moons", lr=-1)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        train.Trainer(flow, np.zeros((50, 3)))
    with pytest.raises(ValueError, match=r"^unknown dataset 'no-such-dataset'; valid names: .*\bmoons\b"):
        train.Trainer(flow, "no-such-dataset")
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        train.Trainer(flow, "moons", lr=float("nan"))
    with pytest.raises(ValueError, match="eval_every must be an integer >= 1, got 0"):
        train.Trainer(flow, "moons", eval_every=0)
    with pytest.raises(ValueError, match="grad_clip must be a finite number > 0"):
        train.Trainer(flow, "moons", grad_clip=0.0)
    before = [p.detach().clone() for p in flow.parameters()]
    with pytest.raises(ValueError, match="steps must be an integer >= 0, got -5"):  # was: 0 steps, silently
        train.fit(flow, "moons", steps=-5, progress=False)
    with pytest.raises(TypeError, match=r"steps must be an integer >= 0, got 100.0 \(float\) \(use int\(100.0\)\)"):
        train.fit(flow, "moons", steps=100.0, progress=False)  # type: ignore[arg-type]
    assert all(torch.equal(a, b) for a, b in zip(before, flow.parameters(), strict=True))
