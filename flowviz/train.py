"""Maximum-likelihood fitting of a flow: minimise the negative log-likelihood
NLL = -mean_i log p(x_i) = -mean_i [log pi(G^{-1}(x_i)) + log|det J_{G^{-1}}(x_i)|] with Adam.

A :class:`Trainer` can be stepped, paused, resumed and stopped between steps (the training widget
drives one from a thread); :func:`fit` is the one-call form. The data are ``(N, d)`` points for a flow of
dimension ``d`` (or a dataset of that dimension), checked with the test set before anything runs. On a
non-finite loss, non-finite gradients or a flow that is no longer invertible the trainer stops, restores the
last parameters that gave a finite loss together with the optimizer's state at that point, and says which
layer was at fault. Any other exception during a run (a notebook interrupt, an error in a callback) is
recorded in ``history.status`` ("interrupted" / "error") and raised again, with the parameters of the last
completed step kept.
Flows save and load (configuration plus parameters) with an exact round trip: :func:`save`, :func:`load`.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .data import Dataset, as_dataset, as_points
from .flows import ActNorm, Flow, NotInvertibleError
from .flows.base import check_count, check_positive
from .flows.serialize import load, save

__all__ = ["History", "Trainer", "fit", "save", "load"]


@dataclass
class History:
    """What a training run produced. NLL in nats per sample (lower is better).

    ``train_nll[i]`` is the minibatch NLL at step ``steps[i]`` (before that step's update);
    ``test_nll[j]`` the NLL of the held-out set at step ``test_steps[j]``.
    ``status``: "idle", "running", "paused", "done", "stopped", "non-finite" (a NaN/inf loss or gradient),
    "not invertible" (a layer folds: the density is undefined), "interrupted" (a KeyboardInterrupt, e.g. a
    notebook's stop button) or "error" (another exception; it was raised again); ``message`` says why.
    """

    steps: list[int] = field(default_factory=list)
    train_nll: list[float] = field(default_factory=list)
    test_steps: list[int] = field(default_factory=list)
    test_nll: list[float] = field(default_factory=list)
    status: str = "idle"
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "train_nll": self.train_nll, "test_steps": self.test_steps,
                "test_nll": self.test_nll, "status": self.status, "message": self.message}

    @property
    def final_test_nll(self) -> float | None:
        return self.test_nll[-1] if self.test_nll else None


def _points(data: Any, dim: int, what: str) -> Tensor:
    """A user's ``(N, dim)`` array or tensor, checked (real, N >= 1 rows, finite) and copied; a wrong number of
    columns is an error naming both dimensions."""
    if isinstance(data, (np.ndarray, Tensor)) and data.ndim == 2 and data.shape[1] != dim:
        raise ValueError(f"{what} has {data.shape[1]} columns but the flow has dim {dim}: "
                         f"{what} must have shape (N, {dim}), got shape {tuple(data.shape)}")
    return as_points(data, dim, what)


def _uninitialised_actnorm(flow: Flow) -> list[str]:
    """Names of the ActNorm layers that will initialise themselves from the first training batch."""
    return [f"{name or 'the flow'} (ActNorm)" for name, m in flow.named_modules()
            if isinstance(m, ActNorm) and not bool(m.initialized)]


class Trainer:
    """Fits ``flow`` to ``data`` by maximum likelihood, one Adam step at a time.

    ``data``: a :class:`flowviz.data.Dataset`, a dataset name ("moons", ...), or an ``(N, d)`` array or tensor,
    ``d = flow.dim``. A dataset with a sampler gets a fresh minibatch every step and a fixed test set of
    ``n_test`` points from an independent generator; an array is split into train (90%) and test (10%)
    unless ``test_data`` (an ``(M, d)`` array or tensor) is given.

    Everything is checked here, before the flow changes: the arguments, the data and the test data (shape
    ``(N, d)`` with ``N >= 1``, real and finite; a dataset of dimension ``d``), that the flow has a trainable
    parameter, and that ``batch_size >= 2`` when an ActNorm layer still has to initialise itself from the first
    batch (its shift and scale are that batch's mean and standard deviation).
    """

    def __init__(self, flow: Flow, data: Dataset | str | Any, *, batch_size: int = 512, lr: float = 1e-3,
                 test_data: Any = None, n_test: int = 4096, eval_every: int = 10, seed: int = 0,
                 grad_clip: float | None = None) -> None:
        batch_size = check_count(batch_size, "batch_size", owner="fit")
        lr = check_positive(lr, "lr", owner="fit")
        n_test = check_count(n_test, "n_test", owner="fit")
        eval_every = check_count(eval_every, "eval_every", owner="fit")
        if grad_clip is not None:
            grad_clip = check_positive(grad_clip, "grad_clip", owner="fit")
        if not any(p.requires_grad for p in flow.parameters()):
            raise ValueError("fit: the flow has no trainable parameter (every parameter has requires_grad=False, "
                             "or it has none): there is nothing to fit; unfreeze some with p.requires_grad_(True)")
        actnorm = _uninitialised_actnorm(flow)
        if actnorm and batch_size < 2:
            raise ValueError(f"fit: batch_size must be >= 2 for a flow with an uninitialised ActNorm layer "
                             f"({', '.join(actnorm)}): it sets its shift and scale from the first batch's mean and "
                             f"standard deviation; got batch_size={batch_size}")
        self.flow = flow
        self.device, self.dtype = flow.device, flow.dtype
        self.batch_size, self.eval_every, self.grad_clip = batch_size, max(1, eval_every), grad_clip
        if isinstance(data, (np.ndarray, Tensor)):
            self.dataset: Dataset = as_dataset(_points(data, flow.dim, "data"), dim=flow.dim)
        else:
            self.dataset = as_dataset(data, dim=None)
            if self.dataset.dim != flow.dim:
                raise ValueError(f"dataset {self.dataset.name!r} is {self.dataset.dim}-dimensional but the flow "
                                 f"has dim {flow.dim}")
        test = None if test_data is None else _points(test_data, flow.dim, "test_data").to(self.device, self.dtype)
        self.generator = torch.Generator().manual_seed(seed)
        self._train: Tensor | None = None
        source = getattr(self.dataset, "data", None)
        if isinstance(source, Tensor):  # a user's array: fixed train/test split
            rows = source.to(self.device, self.dtype)
            perm = torch.randperm(rows.shape[0], generator=self.generator).to(self.device)
            n_hold = 0 if test is not None or rows.shape[0] < 10 else max(1, rows.shape[0] // 10)
            self._train, held = rows[perm[n_hold:]], rows[perm[:n_hold]]
            self.test = test if test is not None else (held if n_hold else None)
        else:
            test_gen = torch.Generator().manual_seed(seed + 1_000_003)
            self.test = test if test is not None else self.dataset.sample(n_test, test_gen).to(self.device,
                                                                                              self.dtype)
        self.optimizer = torch.optim.Adam(flow.parameters(), lr=lr)
        self.history = History()
        self.step_count = 0
        # the last parameters that gave a finite loss, and the optimizer's state that goes with them
        self._good_state = {k: v.detach().clone() for k, v in flow.state_dict().items()}
        self._good_optimizer: dict[Tensor, dict[str, Any]] = {}  # per parameter: Adam's step and moments
        self._updating = False  # True from the optimizer's update until the step is accepted
        self._recorded: BaseException | None = None  # the exception last recorded in the history
        self._resume = threading.Event()
        self._resume.set()
        self._stop = threading.Event()

    # -- control ---------------------------------------------------------------------------
    def pause(self) -> None:
        """Pause a running :meth:`run` after the current step (it waits until :meth:`resume`)."""
        self._resume.clear()
        if self.history.status == "running":
            self.history.status = "paused"

    def resume(self) -> None:
        self._resume.set()
        if self.history.status == "paused":
            self.history.status = "running"

    def stop(self) -> None:
        """Stop a running :meth:`run` after the current step; the parameters are kept."""
        self._stop.set()
        self._resume.set()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    # -- steps -----------------------------------------------------------------------------
    def _batch(self) -> Tensor:
        if self._train is not None:
            idx = torch.randint(self._train.shape[0], (self.batch_size,), generator=self.generator)
            return self._train[idx.to(self.device)]
        return self.dataset.sample(self.batch_size, self.generator).to(self.device, self.dtype)

    @torch.no_grad()
    def test_nll(self) -> float | None:
        """NLL of the held-out set under the current flow (None without a test set)."""
        if self.test is None:
            return None
        was_training = self.flow.training
        self.flow.eval()
        try:
            return float(-self.flow.log_prob(self.test).mean())
        finally:
            self.flow.train(was_training)

    def _diagnose(self, batch: Tensor) -> str:
        try:
            report = self.flow.trace_inverse(batch).report()
        except (ValueError, NotInvertibleError) as err:
            report = str(err)
        bad = [n for n, p in self.flow.named_parameters() if not torch.isfinite(p).all()]
        if bad:
            report += ("; " if report else "") + f"non-finite parameters: {', '.join(bad[:5])}"
        return report or "the loss was non-finite"

    def _snapshot(self) -> None:
        """Remember the current parameters and the optimizer's per-parameter state as the last good pair,
        copied into kept tensors (a deepcopy of the optimizer's state_dict costs ~15% of a small step)."""
        with torch.no_grad():
            for k, v in self.flow.state_dict().items():
                self._good_state[k].copy_(v)
            good, state = self._good_optimizer, self.optimizer.state
            for p in [p for p in good if p not in state]:
                del good[p]
            for p, entries in state.items():
                kept = good.setdefault(p, {})
                for k, v in entries.items():
                    old = kept.get(k)
                    if not isinstance(v, Tensor):
                        kept[k] = copy.deepcopy(v)
                    elif (isinstance(old, Tensor) and old.shape == v.shape and old.dtype == v.dtype
                          and old.device == v.device):
                        old.copy_(v)
                    else:
                        kept[k] = v.detach().clone()

    def _restore(self) -> None:
        """Put back the last good parameters and optimizer state (Adam's moments too: NaN there would spoil
        every later step)."""
        self.flow.load_state_dict(self._good_state)
        self.optimizer.state.clear()
        for p, kept in self._good_optimizer.items():
            self.optimizer.state[p] = {k: v.clone() if isinstance(v, Tensor) else copy.deepcopy(v)
                                       for k, v in kept.items()}
        self.optimizer.zero_grad(set_to_none=True)
        self._updating = False

    def _record_exception(self, err: BaseException) -> None:
        """Record an exception raised during a step or a run: status "interrupted" (KeyboardInterrupt and other
        non-``Exception`` exits) or "error", and why. An update that it cut short is undone (the parameters and
        optimizer state of the last completed step are put back); a completed step is kept."""
        if err is self._recorded:  # already recorded by step(), seen again by run()
            return
        self._recorded = err
        undone = ""
        if self._updating:
            self._restore()
            undone = "; the update it cut short was undone"
        interrupted = not isinstance(err, Exception)
        self.history.status = "interrupted" if interrupted else "error"
        what = "interrupted" if interrupted else "stopped by an error"
        reason = type(err).__name__ + (f": {err}" if str(err) else "")
        self.history.message = (f"step {self.step_count}: {what} ({reason}){undone}; the parameters are those "
                                f"after the last completed step ({self.step_count} steps in all)")

    def _fail(self, status: str, what: str, detail: str) -> float:
        """Restore the last good parameters and optimizer state, record ``status`` and why, and return NaN
        (the step is not recorded)."""
        self._restore()
        self.history.status = status
        self.history.message = (f"step {self.step_count}: {what}; restored the last good parameters and "
                                f"optimizer state. {detail}")
        return math.nan

    def _layers_of(self, names: list[str]) -> str:
        """Where parameters ``layers.<k-1>.<...>`` of the flow are: "layer k (Planar): layers.<k-1>.u, ..."."""
        groups: dict[str, list[str]] = {}
        for name in names:
            parts = name.split(".")
            where = "the flow"
            if len(parts) > 2 and parts[0] == "layers" and parts[1].isdigit():
                k = int(parts[1])
                where = f"layer {k + 1} ({type(self.flow.layers[k]).__name__})"
            groups.setdefault(where, []).append(name)
        return "; ".join(f"{where}: {', '.join(found[:5])}" + (", ..." if len(found) > 5 else "")
                         for where, found in groups.items())

    def _nonfinite_gradients(self) -> list[str]:
        """Names of the parameters whose gradient holds NaN or inf (one device sync when there are none)."""
        named = [(n, p.grad) for n, p in self.flow.named_parameters() if p.grad is not None]
        if not named or bool(torch.stack([torch.isfinite(g).all() for _, g in named]).all()):
            return []
        return [n for n, g in named if not bool(torch.isfinite(g).all())]

    def _folds(self) -> str:
        """"" when every layer is invertible, else which ones are not and why."""
        return "; ".join(f"layer {k} ({type(layer).__name__}): {layer.invertibility_message()}"
                         for k, layer in enumerate(self.flow.bijections, 1) if not layer.is_invertible())

    def step(self) -> float:
        """One Adam step on a fresh minibatch; returns that minibatch's NLL (before the update).

        Returns NaN without updating, after restoring the last good parameters and optimizer state, when
        the loss is non-finite or its gradients are (status "non-finite"), or when the flow is not
        invertible, before the step or after its update (status "not invertible"); the message names the
        layer. Any other exception (or a KeyboardInterrupt) is recorded (status "error" / "interrupted"),
        an update it cut short is undone, and it is raised again.
        """
        try:
            return self._step()
        except BaseException as err:
            self._record_exception(err)
            raise

    def _step(self) -> float:
        self.flow.train()
        batch = self._batch()
        try:
            loss = -self.flow.log_prob(batch).mean()
        except NotInvertibleError as err:
            return self._fail("not invertible", "the flow is not invertible", str(err))
        if not loss.requires_grad:
            raise ValueError("fit: the loss does not depend on any trainable parameter (every parameter of the "
                             "flow has requires_grad=False): there is nothing to fit")
        value = loss.item()
        if not math.isfinite(value):
            return self._fail("non-finite", "non-finite loss", self._diagnose(batch))
        self._snapshot()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        bad = self._nonfinite_gradients()
        if bad:
            return self._fail("non-finite", f"non-finite gradients (NaN/inf) at a finite loss ({value:.4g})",
                              f"gradients non-finite in {self._layers_of(bad)}")
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.flow.parameters(), self.grad_clip)
        self._updating = True  # from here until the step is accepted, an exception undoes the update
        self.optimizer.step()
        folds = self._folds()
        if folds:
            return self._fail("not invertible", "the update made the flow non-invertible", folds)
        self._updating = False
        self.history.steps.append(self.step_count)
        self.history.train_nll.append(value)
        self.step_count += 1
        if self.step_count % self.eval_every == 0:
            nll = self.test_nll()
            if nll is not None:
                self.history.test_steps.append(self.step_count)
                self.history.test_nll.append(nll)
        return value

    def run(self, steps: int, progress: bool = True,
            callback: Callable[[Trainer], None] | None = None) -> History:
        """Take up to ``steps`` steps, honouring :meth:`pause`, :meth:`resume` and :meth:`stop`.

        ``progress``: a tqdm bar (the notebook widget in Jupyter, text in a terminal).
        ``callback(trainer)`` runs after every step (e.g. to update a plot).

        An exception inside the run (a KeyboardInterrupt, an error in a step or in the callback) sets
        ``history.status`` to "interrupted" or "error" with the reason in ``history.message``, keeps the
        parameters of the last completed step, and is raised again.
        """
        from tqdm.auto import tqdm

        steps = check_count(steps, "steps", minimum=0, owner="fit")
        self._stop.clear()
        self.history.status = "running"
        bar = tqdm(total=steps, desc="fitting", unit="step", disable=not progress, leave=True)
        try:
            for _ in range(steps):
                if not self._resume.is_set():
                    self.history.status = "paused"
                    self._resume.wait()
                if self._stop.is_set():
                    self.history.status = "stopped"
                    break
                self.history.status = "running"
                value = self.step()
                if self.history.status in ("non-finite", "not invertible"):
                    warnings.warn(self.history.message, RuntimeWarning, stacklevel=2)
                    break
                bar.update(1)
                if self.history.test_nll and self.history.test_steps[-1] == self.step_count:
                    bar.set_postfix(train=f"{value:.3f}", test=f"{self.history.test_nll[-1]:.3f}")
                if callback is not None:
                    callback(self)
            else:
                self.history.status = "done"
        except BaseException as err:
            self._record_exception(err)
            raise
        finally:
            bar.close()
            self.flow.eval()
        if self.history.status == "done" and (not self.history.test_steps or
                                              self.history.test_steps[-1] != self.step_count):
            nll = self.test_nll()
            if nll is not None:
                self.history.test_steps.append(self.step_count)
                self.history.test_nll.append(nll)
        return self.history

    def save(self, path: str) -> None:
        """Save the flow with this run's history as metadata (see :func:`flowviz.flows.save`)."""
        save(self.flow, path, history=self.history.as_dict())


def fit(flow: Flow, data: Dataset | str | Any, steps: int = 1000, batch_size: int = 512, lr: float = 1e-3,
        *, test_data: Any = None, seed: int = 0, progress: bool = True, eval_every: int = 10,
        callback: Callable[[Trainer], None] | None = None) -> History:
    """Fit ``flow`` to ``data`` by maximum likelihood (Adam) for ``steps`` steps; returns the History.

    Example::

        from flowviz import flows, train
        flow = flows.realnvp(2)
        history = train.fit(flow, "moons", steps=2000)
        history.final_test_nll      # nats; the moons density's entropy is about 0.289
    """
    trainer = Trainer(flow, data, batch_size=batch_size, lr=lr, test_data=test_data, seed=seed,
                      eval_every=eval_every)
    return trainer.run(steps, progress=progress, callback=callback)
