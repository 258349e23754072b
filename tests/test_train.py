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
    # the maximum-likelihood affine flow is the training split's own mean and (biased) standard deviation, up to
    # Adam's minibatch noise at lr 5e-2: shift within 5% of a standard deviation, scale within 6% (a log-det off
    # by a factor 0.8 would give 0.56 for the 0.49 of the second coordinate)
    mean, std = trainer._train.double().mean(0), trainer._train.double().std(0, unbiased=False)
    assert ((flow.layers[0].shift.detach().double() - mean).abs() <= 0.05 * std).all(), (flow.layers[0].shift, mean)
    torch.testing.assert_close(flow.layers[0].scale.detach().abs().double(), std, rtol=0.06, atol=0)


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
    good_adam = _adam_state(trainer)  # the optimizer's state that goes with `good` (2 updates)
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
    # and Adam's state is the one that goes with them (its moments and step count after 2 updates, not 3)
    _assert_same_state(_adam_state(trainer), good_adam)


def _adam_state(trainer: train.Trainer) -> list[dict[str, torch.Tensor]]:
    """A copy of Adam's per-parameter state (step, exp_avg, exp_avg_sq), in parameter order."""
    return [{k: v.detach().clone() for k, v in trainer.optimizer.state[p].items()}
            for p in trainer.flow.parameters() if p in trainer.optimizer.state]


def _assert_same_state(got: list[dict[str, torch.Tensor]], expected: list[dict[str, torch.Tensor]]) -> None:
    assert len(got) == len(expected) > 0
    for a, b in zip(got, expected, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert torch.isfinite(a[k]).all() and torch.equal(a[k], b[k]), k


def test_non_finite_gradients_at_a_finite_loss_restore_parameters_and_optimizer_state() -> None:
    """A finite loss whose gradients are NaN (here a hook on one conditioner's bias; in practice e.g. an
    operation with an infinite derivative): no update happens, parameters and Adam's state stay the last good
    pair, the message names the layer, and training continues once the gradients are finite again."""
    torch.manual_seed(0)
    flow = flows.Flow([flows.Affine(2), flows.AffineCoupling(2, hidden=8)])
    poison = {"on": False}
    flow.layers[1].conditioner[-1].bias.register_hook(
        lambda g: torch.full_like(g, float("nan")) if poison["on"] else g)
    trainer = train.Trainer(flow, "moons", batch_size=64, lr=1e-2)
    for _ in range(2):
        trainer.step()
    good = {k: v.clone() for k, v in flow.state_dict().items()}
    good_adam = _adam_state(trainer)
    poison["on"] = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.run(5, progress=False)
    assert history.status == "non-finite" and len(history.steps) == 2
    assert "gradients" in history.message and "layer 2 (AffineCoupling): layers.1.conditioner.4.bias" in history.message
    assert "restored" in history.message and any("gradients" in str(w.message) for w in caught)
    for k, v in flow.state_dict().items():
        assert torch.equal(v, good[k]), k
    _assert_same_state(_adam_state(trainer), good_adam)
    poison["on"] = False  # the cause is gone: training goes on from the restored state
    history = trainer.run(5, progress=False)
    assert history.status == "done" and len(history.steps) == 7
    assert all(torch.isfinite(p).all() for p in flow.parameters())
    assert all(math.isfinite(v) for v in history.train_nll)


def test_data_at_a_radial_centre_trains_with_finite_gradients() -> None:
    """A data point exactly at a Radial layer's centre: its derivative there is finite, so training runs."""
    torch.manual_seed(0)
    data = torch.randn(400, 2)
    data[::7] = 0.0
    flow = flows.Flow([flows.Radial(2), flows.Affine(2)])
    history = train.Trainer(flow, data, batch_size=64, seed=0).run(5, progress=False)
    assert history.status == "done", history.message
    assert all(torch.isfinite(p).all() for p in flow.parameters())


def test_a_flow_that_is_not_invertible_stops_training_restores_and_names_the_layer() -> None:
    """Flow.log_prob raising NotInvertibleError inside a step (here: parameters set by hand between steps) is
    handled like a non-finite loss: restore the last good parameters and optimizer state, status
    "not invertible", a message naming the layer, a warning; run returns instead of raising."""
    torch.manual_seed(0)
    flow = flows.Flow([flows.Planar(2, u=[0.5, 0.0], w=[1.0, 0.0], constrained=False), flows.Affine(2)])
    trainer = train.Trainer(flow, "moons", batch_size=64, lr=0.05)
    for _ in range(2):
        trainer.step()
    good = {k: v.clone() for k, v in flow.state_dict().items()}
    good_adam = _adam_state(trainer)
    trainer.step()  # evaluated at `good`
    with torch.no_grad():  # as if the update had crossed w . u < -1
        flow.layers[0].u.copy_(torch.tensor([-3.0, 0.0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = trainer.run(5, progress=False)
    assert history.status == "not invertible"
    assert "not invertible" in history.message and "layer 1 (Planar)" in history.message
    assert "restored" in history.message and any("not invertible" in str(w.message) for w in caught)
    for k, v in flow.state_dict().items():
        assert torch.equal(v, good[k]), k
    _assert_same_state(_adam_state(trainer), good_adam)
    assert flow.is_invertible() and len(history.steps) == 3


def test_an_update_that_makes_the_flow_not_invertible_is_undone() -> None:
    """An Adam update that crosses the planar constraint (unconstrained layer; the gradient is forced by a hook
    so the first step of size lr = 3 moves u by -3) is caught right after the update, before the test-set
    evaluation that would need the inverse: the update is undone, the step not recorded."""
    torch.manual_seed(0)
    planar = flows.Planar(2, u=[0.5, 0.0], w=[1.0, 0.0], constrained=False)
    flow = flows.Flow([planar, flows.Affine(2)])
    planar.u.register_hook(lambda g: torch.tensor([1.0, 0.0], dtype=g.dtype))
    planar.w.requires_grad_(False)  # w stays (1, 0): w . u goes from 0.5 to -2.5
    trainer = train.Trainer(flow, "moons", batch_size=64, lr=3.0, eval_every=1)
    before = {k: v.clone() for k, v in flow.state_dict().items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = trainer.run(3, progress=False)
    assert history.status == "not invertible" and "the update made" in history.message, history.message
    assert "layer 1 (Planar): w . u = " in history.message
    for k, v in flow.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert history.steps == [] and history.test_nll == [] and trainer.optimizer.state == {}


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
    with pytest.raises(ValueError, match=r"data has 3 columns but the flow has dim 2.*shape \(N, 2\)"):
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


# ---- data of any dimension, checked up front -------------------------------------------------------------------


def test_d_column_data_fits_a_dim_d_flow() -> None:
    """(N, d) data fit a flow of dimension d (the data module's 2-D check used to refuse them): a 1-D affine flow
    with a standard normal base reaches the maximum-likelihood fit, the training split's mean and standard
    deviation; a 1-D flow on a uniform base and a 3-D RealNVP run too."""
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=(1000, 1)) * 2.0 + 3.0
    flow = flows.Flow([flows.Affine(1)])
    trainer = train.Trainer(flow, x1, batch_size=256, lr=5e-2, seed=0)
    assert trainer.test is not None and trainer.test.shape == (100, 1)
    history = trainer.run(400, progress=False)
    assert history.status == "done", history.message
    mean, std = trainer._train.double().mean(0), trainer._train.double().std(0, unbiased=False)
    assert ((flow.layers[0].shift.detach().double() - mean).abs() <= 0.05 * std).all()
    torch.testing.assert_close(flow.layers[0].scale.detach().abs().double(), std, rtol=0.06, atol=0)

    uniform = flows.Flow([flows.Affine(1)], base=flows.Uniform(1, -5.0, 5.0))
    assert train.fit(uniform, rng.normal(size=(100, 1)), steps=2, progress=False).status == "done"

    x3 = torch.as_tensor(rng.normal(size=(300, 3)) * [1.0, 2.0, 0.5])
    flow3 = flows.realnvp(3, layers=2, hidden=8)
    trainer3 = train.Trainer(flow3, x3, batch_size=64, seed=0, eval_every=5)
    history3 = trainer3.run(10, progress=False)
    assert history3.status == "done" and history3.test_steps == [5, 10]
    with torch.no_grad():  # the recorded test NLL is the flow's own NLL of the held-out rows
        assert history3.test_nll[-1] == pytest.approx(float(-flow3.log_prob(trainer3.test).mean()), rel=1e-6)


def test_wrong_dimension_is_a_clear_error_naming_both() -> None:
    flow3 = flows.realnvp(3, layers=1, hidden=4)
    with pytest.raises(ValueError, match=r"data has 2 columns but the flow has dim 3.*shape \(N, 3\)"):
        train.Trainer(flow3, np.zeros((50, 2)))
    with pytest.raises(ValueError, match="dataset 'moons' is 2-dimensional but the flow has dim 3"):
        train.Trainer(flow3, "moons")
    with pytest.raises(ValueError, match="test_data has 2 columns but the flow has dim 3"):
        train.Trainer(flow3, np.zeros((50, 3)), test_data=np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"data must have shape \(N, 3\).*shape \(50,\)"):
        train.Trainer(flow3, np.zeros(50))


@pytest.mark.parametrize(("bad", "match"), [
    (np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 1.0]]), r"test_data must be finite: 1 of 3 rows.*\[1\]"),
    (np.zeros(2), r"test_data must have shape \(N, 2\).*shape \(2,\)"),
    (np.zeros((0, 2)), "test_data must hold at least one row"),
    ([[0.0, 1.0]], r"expected an \(N, 2\) numpy array or torch tensor of test_data; got list.*np.asarray"),
])
def test_test_data_is_checked_when_the_trainer_is_built(bad: object, match: str) -> None:
    """Bad test data used to be accepted, and failed only at the first evaluation, after eval_every steps had
    already changed the flow."""
    data = np.random.default_rng(0).normal(size=(50, 2))
    for source in (data, "moons"):
        flow = flows.realnvp(2, layers=1, hidden=4)
        before = {k: v.clone() for k, v in flow.state_dict().items()}
        with pytest.raises(ValueError, match=match):
            train.Trainer(flow, source, test_data=bad, batch_size=16, eval_every=2)
        assert all(torch.equal(v, before[k]) for k, v in flow.state_dict().items())


# ---- what a run records when it is cut short --------------------------------------------------------------------


def _callback_raising(error: BaseException, after: int, seen: dict[str, dict[str, torch.Tensor]]):  # type: ignore[no-untyped-def]
    def callback(trainer: train.Trainer) -> None:
        seen["state"] = {k: v.clone() for k, v in trainer.flow.state_dict().items()}
        if trainer.step_count == after:
            raise error
    return callback


@pytest.mark.parametrize(("error", "status"), [
    (KeyboardInterrupt(), "interrupted"),  # a notebook's interrupt button
    (RuntimeError("plot failed"), "error"),
])
def test_an_exception_in_a_run_is_recorded_and_raised_again(error: BaseException, status: str) -> None:
    torch.manual_seed(0)
    flow = flows.realnvp(2, layers=1, hidden=4)
    trainer = train.Trainer(flow, "moons", batch_size=8)
    seen: dict[str, dict[str, torch.Tensor]] = {}
    with pytest.raises(type(error)):
        trainer.run(10, progress=False, callback=_callback_raising(error, 3, seen))
    history = trainer.history
    assert history.status == status, history.status
    assert type(error).__name__ in history.message and str(error) in history.message
    assert history.steps == [0, 1, 2]
    for k, v in flow.state_dict().items():  # the parameters after the last completed step, untouched
        assert torch.equal(v, seen["state"][k]), k
    assert trainer.run(2, progress=False).status == "done"  # and training goes on from there


def test_an_interrupt_during_the_update_undoes_it() -> None:
    """A KeyboardInterrupt inside Adam's update (after it changed the parameters): the parameters and Adam's
    state of the last completed step are put back, the step is not recorded, and the interrupt is raised."""
    torch.manual_seed(0)
    flow = flows.realnvp(2, layers=1, hidden=4)
    trainer = train.Trainer(flow, "moons", batch_size=16)
    trainer.run(2, progress=False)
    good = {k: v.clone() for k, v in flow.state_dict().items()}
    good_adam = _adam_state(trainer)
    update = trainer.optimizer.step

    def interrupted_update(*args, **kwargs):  # type: ignore[no-untyped-def]
        update(*args, **kwargs)
        raise KeyboardInterrupt

    trainer.optimizer.step = interrupted_update  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        trainer.run(3, progress=False)
    assert trainer.history.status == "interrupted" and "undone" in trainer.history.message
    assert trainer.history.steps == [0, 1] and trainer.step_count == 2
    for k, v in flow.state_dict().items():
        assert torch.equal(v, good[k]), k
    _assert_same_state(_adam_state(trainer), good_adam)


def test_a_frozen_flow_is_refused_up_front() -> None:
    flow = flows.realnvp(2, layers=1, hidden=4)
    for p in flow.parameters():
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameter"):
        train.Trainer(flow, "moons")
    flow = flows.realnvp(2, layers=1, hidden=4)
    trainer = train.Trainer(flow, "moons", batch_size=8)
    for p in flow.parameters():  # frozen after the trainer was built
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="does not depend on any trainable parameter"):
        trainer.run(3, progress=False)
    assert trainer.history.status == "error" and "trainable" in trainer.history.message


def test_actnorm_needs_a_batch_of_two_to_initialise() -> None:
    flow = flows.Flow([flows.ActNorm(2), flows.Affine(2)])
    with pytest.raises(ValueError, match=r"batch_size must be >= 2 .*ActNorm.*layers.0.*got batch_size=1"):
        train.Trainer(flow, "moons", batch_size=1)
    assert not bool(flow.layers[0].initialized)
    # once initialised (from a batch of 64), single-point batches are fine
    assert train.fit(flow, "moons", steps=1, batch_size=64, progress=False).status == "done"
    assert train.fit(flow, "moons", steps=2, batch_size=1, progress=False).status == "done"
