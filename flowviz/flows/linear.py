"""Linear maps and permutations: x = W z.

The Jacobian of x = W z is W itself, everywhere, so log|det J| = log|det W| for every sample
(the lecture's f(z) = [z1 + z2, 2 z1] is ``Linear(2, matrix=[[1, 1], [2, 0]])``, det J_f = -2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .base import Bijection, NotInvertibleError, check_input

__all__ = ["Linear", "Permute", "Reverse"]

#: The inverse z = W^{-1} x of a W with condition number cond(W), applied to x rounded to the precision eps of
#: the layer's dtype, can be off by a relative cond(W) eps in the worst case (the rounding amplified by up to
#: cond(W); a diagonal or well-scaled W loses far less). A matrix is refused as numerically singular when that
#: worst case reaches MAX_RELATIVE_ERROR = 1, i.e. when the inverse could lose every digit: cond(W) >= 1 / eps,
#: 4.5e15 in float64, 8.4e6 in float32 (a tighter limit refused well-posed flows: a learnt diag(300, 0.03), cond
#: 1e4, stopped training). In float16 and bfloat16 the limit is 1 / eps too (1024 and 128), at least
#: MIN_CONDITION_LIMIT.
MAX_RELATIVE_ERROR = 1.0
#: The condition number always accepted.
MIN_CONDITION_LIMIT = 100.0


def linalg_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype the matrix operations (slogdet, solve) of a layer in ``dtype`` are computed in: float32 for
    float16 and bfloat16 (torch has no half-precision LU), the dtype itself otherwise."""
    return torch.float32 if torch.finfo(dtype).bits < 32 else dtype


def max_condition(dtype: torch.dtype) -> float:
    """The largest condition number accepted for a matrix applied in ``dtype``:
    max(MAX_RELATIVE_ERROR / eps, MIN_CONDITION_LIMIT): 4.5e15 for float64, 8.4e6 for float32, 1024 for float16
    and 128 for bfloat16."""
    return max(MAX_RELATIVE_ERROR / torch.finfo(dtype).eps, MIN_CONDITION_LIMIT)


def _kind(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _collapse(rank: int, dim: int) -> str:
    """"collapses the plane onto a line", "collapses space onto a plane", ...: what a rank-``rank`` map does."""
    space = {1: "the line", 2: "the plane", 3: "space"}.get(dim, f"R^{dim}")
    image = {0: "a point", 1: "a line", 2: "a plane"}.get(rank, f"a {rank}-dimensional subspace")
    return f"collapses {space} onto {image}"


def matrix_problem(matrix: Tensor, name: str = "W") -> str:
    """Why ``matrix`` (square) cannot serve as an invertible layer in its own dtype ("" when it can):

    * non-finite entries;
    * det = 0: singular (its rank, and what it collapses, are said);
    * condition number >= :func:`max_condition` of its dtype: numerically singular, the inverse could be off by
      a relative cond x eps (the dtype, its limit and that bound are said).

    Computed in float64 on the CPU from the matrix as stored (the one the layer applies)."""
    if not bool(torch.isfinite(matrix).all()):
        return f"{name} has non-finite entries (NaN or inf)"
    m64 = matrix.detach().to(device="cpu", dtype=torch.float64)
    dim = m64.shape[0]
    det = float(torch.linalg.det(m64))
    if det == 0.0:
        rank = min(int(torch.linalg.matrix_rank(m64)), dim - 1)
        return f"det {name} = 0: {name} has rank {rank} < {dim}, so it {_collapse(rank, dim)} (not invertible)"
    cond = float(torch.linalg.cond(m64))
    limit = max_condition(matrix.dtype)
    if not cond < limit:
        kind = _kind(matrix.dtype)
        error, float64_limit = cond * torch.finfo(matrix.dtype).eps, max_condition(torch.float64)
        return (f"{name} is numerically singular in {kind}: condition number {cond:.3g} >= {limit:.3g}, the limit "
                f"for {kind} (det {name} = {det:.3g}); z = {name}^-1 x could be off by a relative cond x eps = "
                f"{error:.2g}" + ("" if kind == "float64" else f" (float64 accepts cond < {float64_limit:.2g})"))
    return ""


def check_invertible_matrix(matrix: Tensor) -> None:
    """Raise ValueError unless ``matrix`` is a finite, square, non-singular matrix (see :func:`matrix_problem`)."""
    if matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be square, got shape {tuple(matrix.shape)}")
    problem = matrix_problem(matrix, "W")
    if problem:
        raise ValueError(f"Linear: W is refused: {problem}")


class Linear(Bijection):
    """An invertible linear map, x = W z (forward, base -> data); log|det J| = log|det W|.

    Two parametrisations:

    * ``Linear(dim, matrix=W)``: W given directly (e.g. the lecture's [[1, 1], [2, 0]]), learnable
      unless ``learnable=False``. A singular or numerically singular W (condition number at or above
      :func:`max_condition` of the dtype: 4.5e15 in float64, 8.4e6 in float32, 1024 in float16) is refused with a
      clear error.
    * ``Linear(dim)``: learnable through an LU decomposition W = P L U (Kingma & Dhariwal 2018):
      P a fixed permutation, L unit lower triangular, U upper triangular with diagonal
      sign * exp(log_diag), so log|det W| = sum(log_diag) costs O(dim) and W stays invertible in exact
      arithmetic (in floating point exp(log_diag) can underflow to 0 or W become ill-conditioned).

    Inverse: z = W^{-1} x (a linear solve), log_det = -log|det W|. ``is_invertible()`` re-checks the current W
    (a learned matrix may drift towards singular, a dtype change moves the limit) and
    ``invertibility_message()`` says what is wrong. In float16/bfloat16 the determinant and the solve are
    computed in float32 and cast back.
    """

    permutation: Tensor
    sign: Tensor

    def __init__(self, dim: int, matrix: Sequence[Sequence[float]] | Tensor | None = None,
                 learnable: bool = True, seed: int | None = None) -> None:
        super().__init__()
        self.dim = dim
        if matrix is not None:
            w = torch.as_tensor(matrix, dtype=torch.get_default_dtype()).detach().clone()
            if w.shape != (dim, dim):
                raise ValueError(f"matrix must have shape ({dim}, {dim}), got {tuple(w.shape)}")
            check_invertible_matrix(w)
            self.parametrization = "matrix"
            self.weight = nn.Parameter(w, requires_grad=learnable)
        else:
            self.parametrization = "lu"
            g = torch.Generator().manual_seed(seed) if seed is not None else None
            perm = torch.randperm(dim, generator=g)
            self.register_buffer("permutation", torch.eye(dim)[perm])
            self.lower = nn.Parameter(torch.zeros(dim, dim), requires_grad=learnable)
            self.upper = nn.Parameter(torch.zeros(dim, dim), requires_grad=learnable)
            self.log_diag = nn.Parameter(torch.zeros(dim), requires_grad=learnable)
            self.register_buffer("sign", torch.ones(dim))

    @property
    def matrix(self) -> Tensor:
        """The current W (dim, dim)."""
        if self.parametrization == "matrix":
            return self.weight
        eye = torch.eye(self.dim, dtype=self.lower.dtype, device=self.lower.device)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign * self.log_diag.exp())
        return self.permutation @ lower @ upper

    def log_abs_det(self) -> Tensor:
        """log|det W| (a scalar), in the layer's dtype (slogdet computed in :func:`linalg_dtype`)."""
        if self.parametrization == "matrix":
            w = self.weight
            return torch.linalg.slogdet(w.to(linalg_dtype(w.dtype)))[1].to(w.dtype)
        return self.log_diag.sum()

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """x = W z; log_det = log|det W| for every sample."""
        check_input(z, self.dim, "z")
        return z @ self.matrix.T, self.log_abs_det().expand(z.shape[0])

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = W^{-1} x (solved in :func:`linalg_dtype`, cast back to x's dtype); log_det = -log|det W|.
        An exactly singular W raises NotInvertibleError saying why (a Flow checks ``is_invertible`` first)."""
        check_input(x, self.dim, "x")
        w = self.matrix
        work = linalg_dtype(x.dtype)
        try:
            z = torch.linalg.solve(w.to(work), x.to(work).T).T.to(x.dtype)
        except torch.linalg.LinAlgError as error:  # exactly singular in the solve's precision
            raise NotInvertibleError(self.invertibility_message() or f"W is singular: {error}") from error
        return z, -self.log_abs_det().expand(x.shape[0])

    @torch.no_grad()
    def _problem(self) -> str:
        """Why the current W is not invertible ("" when it is): see :func:`matrix_problem`; for the LU
        parametrisation the factors are named (a non-finite parameter, exp(log_diag) under- or overflowing)."""
        if self.parametrization == "lu":
            bad = [name for name, p in self.named_parameters() if not bool(torch.isfinite(p).all())]
            if bad:
                return f"non-finite parameters (NaN or inf): {', '.join(bad)}"
            diag = self.log_diag.exp()
            kind = _kind(diag.dtype)
            for i, (value, log) in enumerate(zip(diag.tolist(), self.log_diag.tolist(), strict=True)):
                if value == 0.0:
                    return (f"det W = 0 in {kind}: U's diagonal entry exp(log_diag[{i}]) = exp({log:.3g}) underflows "
                            f"to 0, so W {_collapse(self.dim - 1, self.dim)} (not invertible)")
                if not math.isfinite(value):
                    return f"W has non-finite entries: exp(log_diag[{i}]) = exp({log:.3g}) overflows {kind}"
            # P L U with finite factors and a non-zero diagonal is invertible: no O(dim^3) condition number at
            # every log_prob (it doubled an 8-layer LU flow's log_prob time)
            return ""
        return matrix_problem(self.matrix)

    def is_invertible(self) -> bool:
        """W finite, det W != 0 and (given as a matrix) cond(W) below :func:`max_condition` of the layer's dtype;
        for the LU parametrisation: finite factors and exp(log_diag) neither 0 nor inf."""
        return self._problem() == ""

    def invertibility_message(self) -> str:
        return self._problem()

    def describe(self) -> str:
        rows = "; ".join(", ".join(f"{v:.3g}" for v in row) for row in self.matrix.detach().tolist())
        return f"Linear: x = W z, W = [{rows}]"


class Permute(Bijection):
    """A fixed permutation of coordinates, x_i = z_{perm[i]} (forward, base -> data); log|det J| = 0.
    Inverse: z_{perm[i]} = x_i. ``permutation`` holds integers (a float such as 1.7 is refused, not truncated).

    The permutation is a buffer, not a parameter: it is never trained nor offered as a slider.
    """

    permutation: Tensor
    inverse_permutation: Tensor

    def __init__(self, dim: int, permutation: Sequence[int] | Tensor | None = None,
                 seed: int | None = None) -> None:
        super().__init__()
        self.dim = dim
        if permutation is None:
            g = torch.Generator().manual_seed(seed) if seed is not None else None
            perm = torch.randperm(dim, generator=g)
        else:
            given = torch.as_tensor(permutation)
            if given.is_floating_point() or given.is_complex() or given.dtype == torch.bool:
                shown = ", ".join(f"{v:g}" for v in given.reshape(-1).tolist())
                raise TypeError(f"Permute: permutation must hold integers (a rearrangement of 0..{dim - 1}), got "
                                f"[{shown}] ({_kind(given.dtype)})")
            perm = given.to(torch.long).reshape(-1)
            if sorted(perm.tolist()) != list(range(dim)):
                raise ValueError(f"permutation must be a rearrangement of 0..{dim - 1}, got {perm.tolist()}")
        self.register_buffer("permutation", perm)
        self.register_buffer("inverse_permutation", torch.argsort(perm))

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        check_input(z, self.dim, "z")
        return torch.index_select(z, 1, self.permutation), z.new_zeros(z.shape[0])  # ~5x faster than z[:, perm]

    def inverse(self, x: Tensor) -> tuple[Tensor, Tensor]:
        check_input(x, self.dim, "x")
        return torch.index_select(x, 1, self.inverse_permutation), x.new_zeros(x.shape[0])

    def describe(self) -> str:
        return f"Permute: x = z[{self.permutation.tolist()}]"


class Reverse(Permute):
    """Reverse the order of coordinates, x = (z_d, ..., z_1); log|det J| = 0."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim, permutation=list(range(dim - 1, -1, -1)))

    def describe(self) -> str:
        return "Reverse: x = (z_d, ..., z_1)"
