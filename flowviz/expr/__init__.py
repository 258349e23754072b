"""Safe parsing of user-typed maps such as ``"z1 + z2, 2*z1"`` into vectorised torch functions.

Pages are served to untrusted users, so the text is never executed: it is parsed with
``ast.parse(..., mode="eval")`` (which only builds a syntax tree), checked against a strict
allow-list and rebuilt as a small tree of float operations that is evaluated by walking it.

Allowed: numbers (finite, ``|c| <= 1e6``), the map's variables, ``pi``, ``e``, ``+ - * / **``,
unary ``+``/``-``, parentheses, and calls by bare name of ``sin cos tan tanh sinh cosh exp log
sqrt abs sigmoid atan asinh arcsinh softplus`` and two-argument ``min``/``max``.  A constant
exponent must satisfy ``|p| <= 16``.  Everything else (attributes, indexing, strings, lambdas,
comparisons, keywords, ...) is refused with an :class:`ExpressionError` naming the problem and
its column.  Size limits are in :class:`Limits`.

>>> f = parse_map("z1 + z2, 2*z1")
>>> f.text
'z1 + z2, 2 * z1'
>>> f(torch.tensor([[1.0, 2.0]]))
tensor([[3., 2.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from ._nodes import CONSTANTS, FUNCTIONS, Compiled, Node, compile_node, format_node
from ._parser import DEFAULT_LIMITS, ExpressionError, Limits, check_variables, parse_outputs

__all__ = [
    "CONSTANTS",
    "DEFAULT_LIMITS",
    "FUNCTIONS",
    "ExpressionError",
    "Limits",
    "ParsedMap",
    "parse_expression",
    "parse_map",
]


@dataclass(frozen=True, repr=False)
class ParsedMap:
    """A validated map ``R^dim -> R^n_outputs``; call it on an ``(N, dim)`` tensor.

    Build it with :func:`parse_map` or :func:`parse_expression`.  Two maps compare equal when
    their variables and expression trees are equal (``"z1+z2"`` equals ``"(z1) + z2"``).
    """

    variables: tuple[str, ...]
    outputs: tuple[Node, ...]
    text: str = field(init=False)
    _compiled: tuple[Compiled, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", check_variables(self.variables))
        object.__setattr__(self, "text", ", ".join(format_node(node) for node in self.outputs))
        object.__setattr__(self, "_compiled", tuple(compile_node(node) for node in self.outputs))

    @property
    def n_outputs(self) -> int:
        """Number of outputs (comma-separated expressions)."""
        return len(self.outputs)

    @property
    def dim(self) -> int:
        """Input dimension, i.e. the number of variables."""
        return len(self.variables)

    def __reduce__(self) -> tuple[type[ParsedMap], tuple[tuple[str, ...], tuple[Node, ...]]]:
        # The compiled closures are not picklable; rebuild them from the tree.
        return (ParsedMap, (self.variables, self.outputs))

    def to_string(self) -> str:
        """Canonical text of the map; parsing it again gives an equal map."""
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"ParsedMap({self.text!r}, variables={self.variables!r})"

    def _check_input(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor):
            raise TypeError(f"expected a torch.Tensor, got {type(z).__name__}")
        if z.ndim != 2 or z.shape[1] != self.dim:
            raise ValueError(f"expected input of shape (N, {self.dim}), got {tuple(z.shape)}")
        if z.is_complex():
            raise ValueError("complex inputs are not supported")
        if not z.is_floating_point():
            z = z.to(torch.get_default_dtype())
        return z

    def _forward(self, z: torch.Tensor) -> torch.Tensor:
        # Contiguous columns: every op then runs the same (vectorised) kernel whatever z's layout.
        columns = z.movedim(-1, 0).contiguous().unbind(0)
        return torch.stack([fn(columns) for fn in self._compiled], dim=-1)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        """Evaluate on ``z`` of shape ``(N, dim)``; returns ``(N, n_outputs)`` on z's device/dtype.

        Division by zero, ``log`` of negatives etc. give ``inf``/``nan`` entries, never errors.
        Integer inputs are converted to the default float dtype.
        """
        return self._forward(self._check_input(z))

    def jacobian(self, z: torch.Tensor) -> torch.Tensor:
        """Jacobian of the map at each row of ``z``: shape ``(N, n_outputs, dim)``."""
        z = self._check_input(z)
        if z.shape[0] == 0:
            return z.new_zeros((0, self.n_outputs, self.dim))
        return torch.func.vmap(torch.func.jacrev(self._forward))(z)


def parse_map(
    text: str, variables: Sequence[str] = ("z1", "z2"), *, limits: Limits = DEFAULT_LIMITS
) -> ParsedMap:
    """Parse ``text`` such as ``"z1, z2 + sin(z1)"`` into a :class:`ParsedMap`.

    Comma-separated expressions are the outputs (1 to ``limits.max_outputs``); a single
    expression is a one-output map, e.g. ``parse_map("2*z + 1", variables=("z",))``.

    Raises:
        ExpressionError: (a :class:`ValueError`) with a specific message for any refused input.
    """
    names, outputs = parse_outputs(text, variables, limits)
    return ParsedMap(names, outputs)


def parse_expression(
    text: str, variables: Sequence[str] = ("z1", "z2"), *, limits: Limits = DEFAULT_LIMITS
) -> ParsedMap:
    """Parse a single scalar expression (no commas) into a one-output :class:`ParsedMap`.

    ``parse_expression(t, v)(z)`` has shape ``(N, 1)``; use ``[:, 0]`` for a flat result.
    """
    names, outputs = parse_outputs(text, variables, limits, single=True)
    return ParsedMap(names, outputs)
