"""Internal expression tree, canonical printer and torch compiler for :mod:`flowviz.expr`.

The tree is built only by :mod:`flowviz.expr._parser` after validation, so every node here is
one of a handful of immutable dataclasses that describe plain float arithmetic.  Compiling a
tree produces nested Python closures over torch functions: no source text is ever generated or
executed.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "BINARY_OPS",
    "CONSTANTS",
    "FUNCTIONS",
    "Node",
    "compile_node",
    "format_node",
    "uses_variables",
]

#: Named constants a user may type.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

#: Allowed functions: name -> (number of arguments, torch implementation).
FUNCTIONS: dict[str, tuple[int, Callable[..., torch.Tensor]]] = {
    "sin": (1, torch.sin),
    "cos": (1, torch.cos),
    "tan": (1, torch.tan),
    "tanh": (1, torch.tanh),
    "sinh": (1, torch.sinh),
    "cosh": (1, torch.cosh),
    "exp": (1, torch.exp),
    "log": (1, torch.log),
    "sqrt": (1, torch.sqrt),
    "abs": (1, torch.abs),
    "sigmoid": (1, torch.sigmoid),
    "atan": (1, torch.atan),
    "asinh": (1, torch.asinh),
    "arcsinh": (1, torch.asinh),
    "softplus": (1, F.softplus),
    "min": (2, torch.minimum),
    "max": (2, torch.maximum),
}

#: Allowed binary operators: symbol -> torch implementation (all vectorised float maths).
BINARY_OPS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": torch.pow,
}


@dataclass(frozen=True)
class Num:
    """A finite, bounded numeric literal."""

    value: int | float


@dataclass(frozen=True)
class Const:
    """A named constant (``pi`` or ``e``)."""

    name: str


@dataclass(frozen=True)
class Var:
    """Input variable ``name``, i.e. column ``index`` of the input."""

    name: str
    index: int


@dataclass(frozen=True)
class Unary:
    """Unary ``+`` or ``-``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    """Binary ``+ - * / **``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """Call of one of :data:`FUNCTIONS` by bare name."""

    func: str
    args: tuple[Node, ...]


Node = Num | Const | Var | Unary | Binary | Call

# Precedence levels, loosest to tightest, matching Python's grammar.
_PREC_ADD, _PREC_MUL, _PREC_UNARY, _PREC_POW, _PREC_ATOM = 1, 2, 3, 4, 5
_BINARY_PREC = {"+": _PREC_ADD, "-": _PREC_ADD, "*": _PREC_MUL, "/": _PREC_MUL, "**": _PREC_POW}


def _prec(node: Node) -> int:
    if isinstance(node, Binary):
        return _BINARY_PREC[node.op]
    if isinstance(node, Unary):
        return _PREC_UNARY
    return _PREC_ATOM


def _wrap(node: Node, min_prec: int) -> str:
    text = format_node(node)
    return f"({text})" if _prec(node) < min_prec else text


def format_node(node: Node) -> str:
    """Canonical source text for ``node``, with only the parentheses Python needs.

    Parsing the result again gives an equal tree.
    """
    if isinstance(node, Num):
        return repr(node.value)
    if isinstance(node, (Const, Var)):
        return node.name
    if isinstance(node, Call):
        return f"{node.func}({', '.join(format_node(a) for a in node.args)})"
    if isinstance(node, Unary):
        # ``-(-x)`` rather than the legal but confusing ``--x``.
        return node.op + _wrap(node.operand, _PREC_UNARY + 1)
    if isinstance(node, Binary):
        if node.op == "**":  # right-associative: the base must be an atom, the exponent a factor
            return f"{_wrap(node.left, _PREC_ATOM)}**{_wrap(node.right, _PREC_UNARY)}"
        prec = _BINARY_PREC[node.op]  # left-associative
        return f"{_wrap(node.left, prec)} {node.op} {_wrap(node.right, prec + 1)}"
    raise TypeError(f"not an expression node: {node!r}")


def uses_variables(node: Node) -> bool:
    """Whether any input variable occurs in ``node``."""
    if isinstance(node, Var):
        return True
    if isinstance(node, Unary):
        return uses_variables(node.operand)
    if isinstance(node, Binary):
        return uses_variables(node.left) or uses_variables(node.right)
    if isinstance(node, Call):
        return any(uses_variables(a) for a in node.args)
    return False


Columns = Sequence[torch.Tensor]
Compiled = Callable[[Columns], torch.Tensor]


def compile_node(node: Node) -> Compiled:
    """Turn ``node`` into a function of the input columns built from torch ops.

    The returned function takes one tensor per variable (all the same shape, e.g. ``(N,)`` or
    ``()`` under :func:`torch.func.vmap`) and returns a tensor of that shape on the same
    device/dtype.  Constants are materialised with :func:`torch.full_like`, so every op sees
    tensors of one shape and the result never depends on Python-side big-number arithmetic.
    """
    if isinstance(node, (Num, Const)):
        value = float(node.value) if isinstance(node, Num) else CONSTANTS[node.name]

        def constant(cols: Columns) -> torch.Tensor:
            return torch.full_like(cols[0], value)

        return constant
    if isinstance(node, Var):
        index = node.index

        def variable(cols: Columns) -> torch.Tensor:
            return cols[index]

        return variable
    if isinstance(node, Unary):
        inner = compile_node(node.operand)
        if node.op == "+":
            return inner

        def negate(cols: Columns) -> torch.Tensor:
            return torch.neg(inner(cols))

        return negate
    if isinstance(node, Binary):
        fn2 = BINARY_OPS[node.op]
        left, right = compile_node(node.left), compile_node(node.right)

        def binary(cols: Columns) -> torch.Tensor:
            return fn2(left(cols), right(cols))

        return binary
    if isinstance(node, Call):
        fn = FUNCTIONS[node.func][1]
        args = tuple(compile_node(a) for a in node.args)

        def call(cols: Columns) -> torch.Tensor:
            return fn(*(a(cols) for a in args))

        return call
    raise TypeError(f"not an expression node: {node!r}")
