"""A flow: a composition of bijections on top of a base density.

    x = G(z) = G_K(... G_1(z)),   z ~ pi        (forward: base -> data, generative)
    z = G^{-1}(x) = G_1^{-1}(... G_K^{-1}(x))    (inverse: data -> base, normalising)

    log p(x) = log pi(z) + sum_k log|det J_{G_k^{-1}}|     (the change of variables, layer by layer)

Large inputs are evaluated in row chunks (transparently), which on a CPU is several times faster
than one whole-batch call at a million points (whole-batch evaluation is bound by allocation). A pass
that initialises a layer from its data (ActNorm, first inverse in training mode) runs on the whole batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .base import Bijection, NotInvertibleError, as_input, check_count
from .distributions import Distribution, StandardNormal

__all__ = ["Flow", "Trace", "check_finite", "DEFAULT_CHUNK_SIZE"]

DEFAULT_CHUNK_SIZE = 16384


def check_finite(x: Tensor, what: str) -> None:
    """Raise ValueError naming how many entries (and which first row) of x are NaN or infinite.

    Skipped inside torch.func transforms (vmap, jacrev: ``flows.jacobian`` of a Flow), where a
    data-dependent check cannot run."""
    if torch._C._functorch.is_functorch_wrapped_tensor(x):
        return
    bad = ~torch.isfinite(x)
    if bad.any():
        rows = torch.nonzero(bad.reshape(x.shape[0], -1).any(-1))[:, 0]
        raise ValueError(f"{what} contains {int(bad.sum())} non-finite value(s) (NaN or inf) in "
                         f"{len(rows)} row(s), first at row {int(rows[0])}")


@dataclass
class Trace:
    """Every intermediate state of a pass through a flow.

    ``states``: (K+1, N, d): the input, then the output of every layer in the order applied.
    ``log_dets``: (K, N): log|det J| of each layer as applied (forward: of G_k; inverse: of G_k^{-1}).
    ``direction``: "forward" (z -> x; states[0] = z, states[K] = x; log_dets[k-1] belongs to layer k)
    or "inverse" (x -> z; states[0] = x, states[K] = z; log_dets[j] belongs to layer K - j).
    """

    states: Tensor
    log_dets: Tensor
    direction: str

    @property
    def log_det(self) -> Tensor:
        """Total log|det J| of the whole pass, (N,)."""
        return self.log_dets.sum(0)

    @property
    def cumulative_log_dets(self) -> Tensor:
        """(K+1, N): log|det J| of the first k steps, k = 0..K (0 for k = 0)."""
        zero = self.log_dets.new_zeros((1, self.log_dets.shape[1]))
        return torch.cat([zero, torch.cumsum(self.log_dets, 0)], 0)

    @property
    def finite(self) -> Tensor:
        """(K+1, N) bool: the point's state (and the log-dets so far) are all finite."""
        ok = torch.isfinite(self.states).all(-1)
        ok[1:] &= torch.isfinite(self.cumulative_log_dets[1:])
        return torch.cumprod(ok.to(torch.uint8), 0).bool()

    @property
    def nonfinite_counts(self) -> Tensor:
        """(K,) long: how many points first became non-finite at each step."""
        f = self.finite
        return (f[:-1] & ~f[1:]).sum(-1)

    def _layer(self, step: int) -> int:
        """The flow's layer number k (G_k, 1..K) of step ``step`` (0-based) of this trace: an inverse
        trace runs G_K^{-1} first."""
        K = self.log_dets.shape[0]
        return K - step if self.direction == "inverse" else step + 1

    @property
    def first_nonfinite(self) -> tuple[int, int] | None:
        """(layer k in 1..K, number of points) of the first step that produced NaN/inf, or None. The
        layer is named as in the flow (G_k) in either direction."""
        for step, c in enumerate(self.nonfinite_counts.tolist()):
            if c:
                return self._layer(step), int(c)
        return None

    def report(self) -> str:
        """Human text: where non-finite values appeared ("" when none)."""
        mark = " (inverse)" if self.direction == "inverse" else ""
        parts = [f"layer {self._layer(step)}{mark}: {c} point(s)"
                 for step, c in enumerate(self.nonfinite_counts.tolist()) if c]
        return ("non-finite values (NaN/inf) produced at " + ", ".join(parts)) if parts else ""


class Flow(Bijection):
    """A normalising flow: layers G_1..G_K (applied in list order, base -> data) and a base density.

    ``Flow(layers, base=None)``: base defaults to a standard normal of the layers' dimension; any
    :class:`~flowviz.flows.distributions.Distribution` works (e.g. ``Uniform(1)`` for the lecture's
    Z ~ U[0, 1]).
    """

    base: Distribution
    layers: nn.ModuleList

    def __init__(self, layers: Sequence[Bijection], base: Distribution | None = None,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        super().__init__()
        layers = list(layers)
        if not layers:
            raise ValueError("a Flow needs at least one layer")
        for k, layer in enumerate(layers, 1):
            if not isinstance(layer, Bijection):
                raise TypeError(f"layer {k} is a {type(layer).__module__}.{type(layer).__qualname__}, not a "
                                "flowviz.flows.Bijection (a layer must be invertible and give its log|det J|)")
        if base is not None and not isinstance(base, Distribution):
            raise TypeError(f"base must be a flowviz.flows.Distribution (e.g. StandardNormal, Uniform), "
                            f"got {type(base).__name__}")
        dims = {layer.dim for layer in layers}
        if len(dims) != 1:
            raise ValueError(f"all layers must have the same dim, got {[layer.dim for layer in layers]}")
        self.dim = dims.pop()
        self.base = StandardNormal(self.dim) if base is None else base
        if self.base.dim != self.dim:
            raise ValueError(f"base has dim {self.base.dim} but the layers have dim {self.dim}")
        self.layers = nn.ModuleList(layers)
        self.chunk_size = chunk_size

    @property
    def chunk_size(self) -> int:
        """Most rows evaluated in one piece (see :meth:`_chunks`); a positive integer."""
        size = self.__dict__.get("_chunk_size", self.__dict__.get("chunk_size"))  # the latter: a pickled older Flow
        return DEFAULT_CHUNK_SIZE if size is None else int(size)

    @chunk_size.setter
    def chunk_size(self, value: int) -> None:
        self._chunk_size = check_count(value, "chunk_size", 1, "Flow")

    @property
    def bijections(self) -> list[Bijection]:
        """The layers G_1..G_K, in the order applied (base -> data)."""
        return [layer for layer in self.layers if isinstance(layer, Bijection)]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def device(self) -> torch.device:
        """The device of the flow's parameters and buffers."""
        for p in self.parameters():
            return p.device
        for b in self.buffers():
            return b.device
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        for p in self.parameters():
            return p.dtype
        for b in self.buffers():
            if b.is_floating_point():
                return b.dtype
        return torch.get_default_dtype()

    # -- chunked evaluation ------------------------------------------------------------------
    def _chunks(self, n: int) -> list[slice]:
        """ceil(n / chunk_size) row chunks of equal size, at most chunk_size rows each (10k rows: one piece;
        100k: 7 x 14286; 1M: 62 x 16130). Pieces keep a layer's temporaries (rows x hidden floats) small
        enough to be reused; the conditioners' hidden activations go to reused scratch memory without
        autograd (:mod:`flowviz.flows.workspace`). benchmarks/README.md has the measurements."""
        if not n:
            return []
        k = -(-n // self.chunk_size)
        size = -(-n // k)
        return [slice(i, min(i + size, n)) for i in range(0, n, size)]

    def needs_whole_batch(self) -> bool:
        """Whether any layer (at any depth) would initialise itself from the next pass's data (ActNorm in
        training mode): that pass then runs on the whole batch, not in row chunks."""
        return any(m.needs_whole_batch() for m in self.modules()
                   if isinstance(m, Bijection) and not isinstance(m, Flow))

    def _pieces(self, n: int) -> list[slice]:
        """The row chunks of an n-row pass: :meth:`_chunks`, or one piece while :meth:`needs_whole_batch`
        (a data-dependent initialisation must see every row, not the first chunk)."""
        if n and self.needs_whole_batch():
            return [slice(0, n)]
        return self._chunks(n)

    def _map(self, fn: Callable[[Tensor], tuple[Tensor, Tensor]], v: Tensor) -> tuple[Tensor, Tensor]:
        chunks = self._pieces(v.shape[0])
        if len(chunks) <= 1:
            return fn(v)
        outs, lds = zip(*(fn(v[s]) for s in chunks), strict=True)
        return torch.cat(outs), torch.cat(lds)

    def _forward_all(self, z: Tensor) -> tuple[Tensor, Tensor]:
        log_det = z.new_zeros(z.shape[0])
        for layer in self.layers:
            z, ld = layer(z)
            log_det = log_det + ld
        return z, log_det

    def _inverse_all(self, x: Tensor) -> tuple[Tensor, Tensor]:
        log_det = x.new_zeros(x.shape[0])
        for layer in self.bijections[::-1]:
            x, ld = layer.inverse(x)
            log_det = log_det + ld
        return x, log_det

    # -- the public API ------------------------------------------------------------------------
    def _input(self, x: Tensor, what: str) -> Tensor:
        """Every public method's input: an (N, dim) tensor, moved to the flow's device and dtype (see
        :func:`flowviz.flows.base.as_input`), and finite (else a ValueError naming the rows)."""
        x = as_input(x, self.dim, self.dtype, self.device, what)
        check_finite(x, what)
        return x

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = G(z) (base -> data) and log|det J_G(z)| = sum_k log|det J_{G_k}|, shape (N,)."""
        z = self._input(z, "z")
        return self._map(self._forward_all, z)

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = G^{-1}(x) (data -> base) and log|det J_{G^{-1}}(x)|, shape (N,)."""
        x = self._input(x, "x")
        self._check_invertible()
        return self._map(self._inverse_all, x)

    def log_prob(self, x: Tensor) -> Tensor:
        """log p(x) = log pi(G^{-1}(x)) + log|det J_{G^{-1}}(x)|, shape (N,)."""
        x = self._input(x, "x")
        self._check_invertible()

        def one(v: Tensor) -> tuple[Tensor, Tensor]:
            z, ld = self._inverse_all(v)
            return self.base.log_prob(z) + ld, ld

        return self._map(one, x)[0]

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples x = G(z), z ~ pi, on the flow's device: (n, dim). ``n`` may also be a shape ``(n,)``."""
        return self.forward(self.base.sample(n, generator))[0]

    def sample_base(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """n samples z ~ pi (the base density), on the flow's device."""
        return self.base.sample(n, generator)

    @torch.no_grad()
    def trace(self, z: Tensor) -> Trace:
        """All states of the forward pass z -> x (no gradients): states (K+1, N, d), log_dets (K, N)."""
        z = self._input(z, "z")
        return self._trace(z, self.bijections, inverse=False)

    @torch.no_grad()
    def trace_inverse(self, x: Tensor) -> Trace:
        """All states of the inverse pass x -> z: states[0] = x, states[K] = z; log_dets[j] is
        log|det J_{G_k^{-1}}| of layer k = K - j."""
        x = self._input(x, "x")
        self._check_invertible()
        return self._trace(x, self.bijections[::-1], inverse=True)

    def _trace(self, v: Tensor, layers: list[Bijection], inverse: bool) -> Trace:
        K, N = len(layers), v.shape[0]
        states = v.new_empty((K + 1, N, self.dim))
        log_dets = v.new_empty((K, N))
        states[0] = v
        for s in self._pieces(N):
            h = v[s]
            for k, layer in enumerate(layers):
                h, ld = layer.inverse(h) if inverse else layer(h)
                states[k + 1, s] = h
                log_dets[k, s] = ld
        return Trace(states, log_dets, "inverse" if inverse else "forward")

    def _check_invertible(self) -> None:
        for k, layer in enumerate(self.bijections):
            if not layer.is_invertible():
                raise NotInvertibleError(f"layer {k + 1} ({type(layer).__name__}): {layer.invertibility_message()}")

    def is_invertible(self) -> bool:
        return all(layer.is_invertible() for layer in self.bijections)

    def describe(self) -> str:
        return f"Flow of {len(self.layers)} layers on {self.base.describe()}"
