"""Maximum-likelihood fitting of a flow: minimise the negative log-likelihood
NLL = -mean_i log p(x_i) = -mean_i [log pi(G^{-1}(x_i)) + log|det J_{G^{-1}}(x_i)|] with Adam.

A :class:`Trainer` can be stepped, paused, resumed and stopped between steps (the training widget
drives one from a thread); :func:`fit` is the one-call form. On a non-finite loss, non-finite gradients
or a flow that is no longer invertible the trainer stops, restores the last parameters that gave a finite
loss together with the optimizer's state at that point, and says which layer was at fault.
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

from .data import Dataset, as_dataset
from .flows import Flow, NotInvertibleError
from .flows.base import check_count, check_positive
from .flows.serialize import load, save

__all__ = ["History", "Trainer", "fit", "save", "load"]


@dataclass
class History:
    """What a training run produced. NLL in nats per sample (lower is better).

    ``train_nll[i]`` is the minibatch NLL at step ``steps[i]`` (before that step's update);
    ``test_nll[j]`` the NLL of the held-out set at step ``test_steps[j]``.
    ``status``: "idle", "running", "paused", "done", "stopped", "non-finite" (a NaN/inf loss or gradient) or
    "not invertible" (a layer folds: the density is undefined); ``message`` says why.
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


def _to_tensor(data: Any, device: torch.device, dtype: torch.dtype) -> Tensor:
    t = torch.as_tensor(np.asarray(data) if not isinstance(data, Tensor) else data)
    return t.to(device=device, dtype=dtype)


class Trainer:
    """Fits ``flow`` to ``data`` by maximum likelihood, one Adam step at a time.

    ``data``: a :class:`flowviz.data.Dataset`, a dataset name ("moons", ...), or an (N, d) array.
    A dataset with a sampler gets a fresh minibatch every step and a fixed test set of ``n_test``
    points from an independent generator; an array is split into train (90%) and test (10%)
    unless ``test_data`` is given.
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
        self.flow = flow
        self.device, self.dtype = flow.device, flow.dtype
        self.batch_size, self.eval_every, self.grad_clip = batch_size, max(1, eval_every), grad_clip
        self.dataset = as_dataset(data)
        self.generator = torch.Generator().manual_seed(seed)
        self._train: Tensor | None = None
        source = getattr(self.dataset, "data", None)
        if source is not None:  # a user's array: fixed train/test split
            rows = _to_tensor(source, self.device, self.dtype)
            if rows.shape[-1] != flow.dim:
                raise ValueError(f"data has {rows.shape[-1]} columns but the flow has dim {flow.dim}")
            perm = torch.randperm(rows.shape[0], generator=self.generator).to(self.device)
            n_hold = 0 if test_data is not None or rows.shape[0] < 10 else max(1, rows.shape[0] // 10)
            self._train, held = rows[perm[n_hold:]], rows[perm[:n_hold]]
            self.test = _to_tensor(test_data, self.device, self.dtype) if test_data is not None else (
                held if n_hold else None)
        else:
            test_gen = torch.Generator().manual_seed(seed + 1_000_003)
            self.test = (_to_tensor(test_data, self.device, self.dtype) if test_data is not None else
                         self.dataset.sample(n_test, test_gen).to(self.device, self.dtype))
        if self.test is not None and self.test.shape[-1] != flow.dim:
            raise ValueError(f"test data has {self.test.shape[-1]} columns but the flow has dim {flow.dim}")
        self.optimizer = torch.optim.Adam(flow.parameters(), lr=lr)
        self.history = History()
        self.step_count = 0
        # the last parameters that gave a finite loss, and the optimizer's state that goes with them
        self._good_state = {k: v.detach().clone() for k, v in flow.state_dict().items()}
        self._good_optimizer: dict[Tensor, dict[str, Any]] = {}  # per parameter: Adam's step and moments
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

    def _fail(self, status: str, what: str, detail: str) -> float:
        """Restore the last good parameters and optimizer state (Adam's moments too: NaN there would spoil
        every later step), record ``status`` and why, and return NaN (the step is not recorded)."""
        self.flow.load_state_dict(self._good_state)
        self.optimizer.state.clear()
        for p, kept in self._good_optimizer.items():
            self.optimizer.state[p] = {k: v.clone() if isinstance(v, Tensor) else copy.deepcopy(v)
                                       for k, v in kept.items()}
        self.optimizer.zero_grad(set_to_none=True)
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
        layer.
        """
        self.flow.train()
        batch = self._batch()
        try:
            loss = -self.flow.log_prob(batch).mean()
        except NotInvertibleError as err:
            return self._fail("not invertible", "the flow is not invertible", str(err))
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
        self.optimizer.step()
        folds = self._folds()
        if folds:
            return self._fail("not invertible", "the update made the flow non-invertible", folds)
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
