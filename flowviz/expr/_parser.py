"""Validate user-typed map text and turn it into a :mod:`flowviz.expr._nodes` tree.

Security model: the text is only ever *parsed* (``ast.parse`` builds a syntax tree and runs
nothing); the tree is then checked against an allow-list by an explicit, non-recursive walk
and rebuilt as our own small tree of float operations.  Every bound (length, bracket depth,
node count, nesting depth, literal size, exponent size) is checked before any work that could
grow with it.
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ._nodes import (
    CONSTANTS,
    FUNCTIONS,
    Binary,
    Call,
    Const,
    Node,
    Num,
    Unary,
    Var,
    compile_node,
    uses_variables,
)

__all__ = ["DEFAULT_LIMITS", "ExpressionError", "Limits", "parse_outputs", "check_variables"]


class ExpressionError(ValueError):
    """A map or expression was refused.

    ``str(err)`` is a complete message for the user; ``reason`` is the same without the
    position, and ``line``/``column`` (1-based, or ``None``) say where the problem starts: the
    offending name, number, operator, ``.``, bracket or character.  They count in the text
    exactly as it was given, leading blanks and blank lines included; every character, a tab
    too, is one column, and lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (as for Python).
    """

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        if column is None:
            message = reason
        elif line is None or line == 1:
            message = f"{reason} (at column {column})"
        else:
            message = f"{reason} (at line {line}, column {column})"
        super().__init__(message)


_MAX_SAFE_DEPTH = 100


@dataclass(frozen=True)
class Limits:
    """Bounds that keep parsing and evaluation small whatever the input.

    These are for developers (e.g. tests); never build them from user input.
    """

    max_length: int = 500  #: characters of input text
    max_bracket_depth: int = 20  #: nesting of ``(``, ``[``, ``{`` in the raw text
    max_nodes: int = 200  #: numbers, names, operators and calls in the whole map
    max_depth: int = 32  #: nesting depth of the expression tree
    max_outputs: int = 3  #: comma-separated outputs
    max_constant: float = 1e6  #: magnitude of a numeric literal
    max_exponent: float = 16  #: magnitude of a constant exponent in ``a ** b``

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"Limits.{name} must be positive, got {value!r}")
        if self.max_depth > _MAX_SAFE_DEPTH:
            # the tree is built and evaluated recursively; keep well inside Python's stack
            raise ValueError(f"Limits.max_depth must be at most {_MAX_SAFE_DEPTH}")


DEFAULT_LIMITS = Limits()

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
_REFUSED_OPERATORS: dict[type[ast.operator], str] = {
    ast.Mod: "%",
    ast.FloorDiv: "//",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Subscript: "indexing and slicing (x[...]) are not allowed",
    ast.Slice: "slices are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions and generator expressions are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.Compare: "comparisons (<, >, ==, ...) are not allowed",
    ast.BoolOp: "boolean operators (and, or) are not allowed",
    ast.IfExp: "conditional expressions (... if ... else ...) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "starred expressions (*x) are not allowed",
    ast.List: "lists ([...]) are not allowed",
    ast.Set: "sets ({...}) are not allowed",
    ast.Dict: "dictionaries ({...}) are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}
# Printable ASCII plus ordinary whitespace; everything else is refused before parsing.
_BAD_CHAR = re.compile(r"[^\x20-\x7e\t\n\r]")
# Line breaks as Python's tokenizer counts them (so ast line numbers agree with ours).
_LINE_BREAK = re.compile(r"\r\n?|\n")
_BLANKS = " \t\r\n"
_OPEN, _CLOSE = frozenset("([{"), frozenset(")]}")
_SEGMENT_CHARS = 40


def check_variables(variables: Sequence[str]) -> tuple[str, ...]:
    """Validate variable names (chosen by the developer, not the user)."""
    if isinstance(variables, str) or not isinstance(variables, Sequence):
        raise ExpressionError("variables must be a sequence of names, e.g. ('z1', 'z2')")
    names = tuple(variables)
    if not 1 <= len(names) <= 16:
        raise ExpressionError(f"need between 1 and 16 variables, got {len(names)}")
    for name in names:
        if not (
            isinstance(name, str)
            and name.isascii()
            and name.isidentifier()
            and not keyword.iskeyword(name)
            and not name.startswith("_")
        ):
            raise ExpressionError(f"invalid variable name {name!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ExpressionError(f"variable name {name!r} clashes with a built-in function or constant")
    if len(set(names)) != len(names):
        raise ExpressionError(f"duplicate variable names in {names!r}")
    return names


def _fmt(x: float) -> str:
    """``16`` rather than ``16.0``, ``1000000`` rather than ``1e+06``."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based (line, column) of ``text[index]``; every character, a tab too, is one column."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


class _Checker:
    """One parse: holds the text, the allowed names and the limits.

    ``source`` is the text as the user typed it, and every reported position refers to it.
    ``text`` is what is handed to ``ast.parse``: ``source`` without trailing blanks and
    without the spaces/tabs that start its first non-blank line (``ast.parse`` refuses those
    as an indent).  Leading blank lines are kept so that line numbers, also those inside
    Python's messages ("... on line 3"), agree with ``source``; every character of the
    expression therefore sits at ``shift`` characters further on in ``source``.
    """

    def __init__(self, source: str, variables: tuple[str, ...], limits: Limits) -> None:
        content = len(source) - len(source.lstrip(_BLANKS))  # first non-blank character
        keep = max(source.rfind("\n", 0, content), source.rfind("\r", 0, content)) + 1
        self.source = source
        self.text = source[:keep] + source[content:].rstrip(_BLANKS)
        self.shift = content - keep
        self.keep = keep
        self.line_starts = [0, *(match.end() for match in _LINE_BREAK.finditer(self.text))]
        self.variables = variables
        self.limits = limits
        self.index = {name: i for i, name in enumerate(variables)}

    # -- positions ---------------------------------------------------------------------------
    def offset(self, line: int, column0: int) -> int:
        """Index in ``text`` of the 0-based ``column0`` on the 1-based ``line`` of ``text``."""
        line = min(max(line, 1), len(self.line_starts))
        return min(self.line_starts[line - 1] + max(column0, 0), len(self.text))

    def locate(self, index: int) -> tuple[int, int]:
        """(line, column) in ``source`` of the character at ``index`` in ``text``."""
        return _line_col(self.source, index + self.shift if index >= self.keep else index)

    def start(self, node: ast.AST) -> int:
        # Text is pure ASCII, so ast's UTF-8 byte offsets are character offsets.
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno or 1, node.end_col_offset or 0)  # type: ignore[attr-defined]

    def next_token(self, start: int, stop: int) -> int:
        """Index of the first character in ``text[start:stop]`` that is not a blank, a closing
        parenthesis, a line continuation or a comment: the operator, dot, bracket or comma
        that follows an operand.  ``start`` if there is none."""
        text, i = self.text, start
        while i < stop:
            ch = text[i]
            if ch == "#":
                match = _LINE_BREAK.search(text, i, stop)
                if match is None:
                    break
                i = match.end()
            elif ch in " \t\r\n\\)":
                i += 1
            else:
                return i
        return start

    # -- errors ------------------------------------------------------------------------------
    def error(self, reason: str, node: ast.AST | None = None) -> ExpressionError:
        if node is None or not hasattr(node, "col_offset"):
            return ExpressionError(reason)
        return self.error_at(reason, self.start(node))

    def error_at(self, reason: str, index: int) -> ExpressionError:
        """Error pointing at ``text[index]``, reported at its position in ``source``."""
        return ExpressionError(reason, *self.locate(index))

    def error_after(self, reason: str, node: ast.AST, stop: int) -> ExpressionError:
        """Error pointing at the token (operator, '.', '[', ',') after ``node``, before ``stop``."""
        return self.error_at(reason, self.next_token(self.end(node), stop))

    def segment(self, node: ast.AST) -> str:
        seg = ast.get_source_segment(self.text, node) or "?"
        seg = " ".join(seg.split())
        return seg if len(seg) <= _SEGMENT_CHARS else seg[: _SEGMENT_CHARS - 3] + "..."

    def allowed_names(self) -> str:
        return ", ".join((*self.variables, *CONSTANTS))

    # -- stage 1: raw text -------------------------------------------------------------------
    def parse(self) -> ast.expr:
        text = self.text
        bad = _BAD_CHAR.search(text)
        if bad is not None:
            ch = bad.group()
            shown = repr(ch) if ch.isprintable() else "control character"
            raise self.error_at(
                f"character {shown} (U+{ord(ch):04X}) is not allowed; use plain ASCII", bad.start()
            )
        depth = 0
        for i, ch in enumerate(text):
            if ch in _OPEN:
                depth += 1
                if depth > self.limits.max_bracket_depth:
                    raise self.error_at(
                        f"too deeply nested (more than {self.limits.max_bracket_depth} levels of brackets)", i
                    )
            elif ch in _CLOSE:
                depth -= 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "1(2)"; we refuse it anyway
                tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            reason = f"syntax error: {exc.msg}" if exc.msg else "syntax error"
            line, column = exc.lineno, exc.offset
            if line is None:
                raise ExpressionError(reason) from None
            if column is None or column < 1:  # points past the end: just after the line's end
                reason = "syntax error: unexpected end of expression"
                line_break = _LINE_BREAK.search(text, self.offset(line, 0))
                index = len(text) if line_break is None else line_break.start()
            else:  # column counts characters (the text is pure ASCII here)
                index = self.offset(line, column - 1)
            raise self.error_at(reason, index) from None
        except (RecursionError, MemoryError):
            raise ExpressionError("too deeply nested or too complex to parse") from None
        except (ValueError, OverflowError) as exc:  # e.g. over-long integer literals
            raise ExpressionError(f"cannot parse expression: {exc}") from None
        return tree.body

    # -- stage 2: allow-list walk (iterative, bounded) ---------------------------------------
    def check(self, outputs: list[ast.expr]) -> None:
        limits = self.limits
        stack: list[tuple[ast.expr, int]] = [(node, 1) for node in reversed(outputs)]
        count = 0
        while stack:
            node, depth = stack.pop()
            count += 1
            if count > limits.max_nodes:
                raise self.error(f"expression too complex (more than {limits.max_nodes} terms)", node)
            if depth > limits.max_depth:
                raise self.error(f"too deeply nested (more than {limits.max_depth} levels)", node)
            children = self.check_node(node)
            stack.extend((child, depth + 1) for child in reversed(children))

    def check_node(self, node: ast.expr) -> list[ast.expr]:
        """Refuse ``node`` unless allowed; return its sub-expressions."""
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            if node.id in self.index or node.id in CONSTANTS:
                return []
            if node.id in FUNCTIONS:
                raise self.error(f"function '{node.id}' must be called, e.g. {node.id}(z)", node)
            raise self.error(f"unknown name '{node.id}'; allowed names: {self.allowed_names()}", node)
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _OPERATORS:
                symbol = _REFUSED_OPERATORS.get(op, op.__name__)
                reason = f"operator '{symbol}' is not allowed; allowed: + - * / **"
                raise self.error_after(reason, node.left, self.start(node.right))
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, (ast.UAdd, ast.USub)):
                return [node.operand]
            if isinstance(node.op, ast.Not):
                raise self.error("'not' is not allowed", node)
            raise self.error("bitwise '~' is not allowed", node)
        if isinstance(node, ast.Call):
            return self.check_call(node)
        if isinstance(node, ast.Attribute):  # point at the '.'
            raise self.error_after(f"attribute access '.{node.attr}' is not allowed", node.value, self.end(node))
        if isinstance(node, ast.Tuple):
            raise self.error(
                "nested tuples are not allowed; separate outputs by commas at the top level", node
            )
        reason = _REFUSED_NODES.get(type(node), f"{type(node).__name__} expressions are not allowed")
        # point at the refused operator or bracket rather than at the operand before it
        if isinstance(node, ast.Compare):
            raise self.error_after(reason, node.left, self.start(node.comparators[0]))
        if isinstance(node, ast.BoolOp):
            raise self.error_after(reason, node.values[0], self.start(node.values[1]))
        if isinstance(node, ast.Subscript):
            raise self.error_after(reason, node.value, self.end(node))
        raise self.error(reason, node)

    def check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bool) or value is None:
            raise self.error(f"{value} is not allowed; only numbers, names and functions", node)
        if isinstance(value, str):
            raise self.error("string literals are not allowed", node)
        if isinstance(value, bytes):
            raise self.error("bytes literals are not allowed", node)
        if isinstance(value, complex):
            raise self.error(f"complex number {self.segment(node)} is not allowed", node)
        if not isinstance(value, (int, float)):
            raise self.error(f"literal {self.segment(node)} is not allowed", node)
        limit = self.limits.max_constant
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(f"number {self.segment(node)} is too large (not finite)", node)
        if abs(value) > limit:
            raise self.error(
                f"number {self.segment(node)} is too large (magnitude at most {_fmt(limit)})", node
            )

    def check_call(self, node: ast.Call) -> list[ast.expr]:
        func = node.func
        if isinstance(func, ast.Attribute):
            return [func]  # reported (with position of the '.') by the attribute rule
        if not isinstance(func, ast.Name):
            raise self.error(f"'{self.segment(func)}' is not a function; call functions by name", node)
        name = func.id
        if name not in FUNCTIONS:
            if name in self.index or name in CONSTANTS:
                raise self.error(f"'{name}' is not a function (missing '*'?)", node)
            allowed = ", ".join(sorted(FUNCTIONS))
            raise self.error(f"unknown function '{name}'; allowed functions: {allowed}", node)
        if node.keywords:  # ast.keyword has a position (of 'x=' or '**') since Python 3.9
            raise self.error(f"keyword arguments are not allowed (in call of {name})", node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise self.error(f"starred arguments are not allowed (in call of {name})", arg)
        arity = FUNCTIONS[name][0]
        if len(node.args) != arity:
            plural = "" if arity == 1 else "s"
            raise self.error(
                f"{name}() takes exactly {arity} argument{plural} ({len(node.args)} given)", node
            )
        return list(node.args)

    # -- stage 3: build our own tree (recursion depth bounded by stage 2) ---------------------
    def build(self, node: ast.expr) -> Node:
        if isinstance(node, ast.Constant):
            return Num(node.value)  # type: ignore[arg-type]  # numeric literals only: checked by the caller
        if isinstance(node, ast.Name):
            if node.id in self.index:
                return Var(node.id, self.index[node.id])
            return Const(node.id)
        if isinstance(node, ast.UnaryOp):
            return Unary("-" if isinstance(node.op, ast.USub) else "+", self.build(node.operand))
        if isinstance(node, ast.BinOp):
            op = _OPERATORS[type(node.op)]
            left, right = self.build(node.left), self.build(node.right)
            if op == "**" and not uses_variables(right):
                self.check_exponent(node.right, right)
            return Binary(op, left, right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            return Call(node.func.id, tuple(self.build(a) for a in node.args))
        raise self.error(f"{type(node).__name__} expressions are not allowed", node)  # unreachable

    def check_exponent(self, source: ast.expr, exponent: Node) -> None:
        """A constant exponent is computed in float64 (never Python ints) and must be small."""
        probe = (torch.zeros((), dtype=torch.float64),)
        value = float(compile_node(exponent)(probe))
        limit = self.limits.max_exponent
        shown = self.segment(source)
        if math.isfinite(value) and shown not in (_fmt(value), repr(value)):
            shown = f"{shown} (= {_fmt(value)})"
        if not math.isfinite(value):
            raise self.error(f"exponent {shown} is not a finite number", source)
        if abs(value) > limit:
            raise self.error(f"exponent {shown} too large (at most {_fmt(limit)})", source)


def parse_outputs(
    text: str, variables: Sequence[str], limits: Limits, *, single: bool = False
) -> tuple[tuple[str, ...], tuple[Node, ...]]:
    """Check ``text`` completely and return ``(variables, output trees)``.

    Raises :class:`ExpressionError` (a :class:`ValueError`) for every refused input.
    """
    names = check_variables(variables)
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be a string, not {type(text).__name__}")
    if len(text) > limits.max_length:
        raise ExpressionError(f"expression too long (more than {limits.max_length} characters)")
    if not text.strip(_BLANKS):
        raise ExpressionError("empty expression")
    checker = _Checker(text, names, limits)  # positions in errors refer to `text` as given
    body = checker.parse()
    if isinstance(body, ast.Tuple):
        outputs = list(body.elts)
        if not outputs:
            raise checker.error("empty expression: expected at least one output", body)
        if single:
            raise checker.error_after(  # at the first comma
                f"expected a single expression, got {len(outputs)} comma-separated outputs",
                outputs[0],
                checker.start(outputs[1]),
            )
    else:
        outputs = [body]
    if len(outputs) > limits.max_outputs:  # at the first output too many
        reason = f"too many outputs ({len(outputs)}; at most {limits.max_outputs})"
        raise checker.error(reason, outputs[limits.max_outputs])
    checker.check(outputs)
    return names, tuple(checker.build(node) for node in outputs)
