"""Tests for :mod:`flowviz.expr`, the safe parser for user-typed maps.

The hostile-input tests and the fuzzing below are the security contract: user text is only
ever parsed (never run), every refusal is a ``ValueError`` with a specific message, and no
input can make parsing slow or raise anything else.
"""

from __future__ import annotations

import ast
import builtins
import math
import pathlib
import pickle
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flowviz.expr import DEFAULT_LIMITS, ExpressionError, Limits, ParsedMap, parse_expression, parse_map

PACKAGE_DIR = pathlib.Path(__file__).resolve().parents[1] / "flowviz" / "expr"
PARSE_TIME_BOUND_S = 1.0  # sanity bound per parse; loose on purpose for noisy machines


def _grid(d: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Fixed sample points in [-2, 2]^d, plus the origin and a few exact values."""
    g = torch.Generator().manual_seed(1234 + d)
    z = torch.rand(24, d, generator=g, dtype=dtype) * 4 - 2
    special = torch.tensor([[0.0] * d, [1.0] * d, [-1.0] * d, [0.5] * d], dtype=dtype)
    return torch.cat([z, special])


def _timed_parse(text: Any, variables: Sequence[str] = ("z1", "z2")) -> ParsedMap | ValueError:
    """Parse, asserting it is quick and that only ValueError can escape."""
    start = time.perf_counter()
    try:
        result: ParsedMap | ValueError = parse_map(text, variables)
    except ValueError as exc:  # anything else propagates and fails the test
        result = exc
    elapsed = time.perf_counter() - start
    assert elapsed < PARSE_TIME_BOUND_S, f"parsing {text!r:.80} took {elapsed:.2f}s"
    return result


# --------------------------------------------------------------------------------------------
# Values and Jacobians of hand-written maps
# --------------------------------------------------------------------------------------------


def test_lecture_linear_map_values_jacobian_and_det() -> None:
    f = parse_map("z1 + z2, 2*z1")
    assert (f.n_outputs, f.dim, f.variables) == (2, 2, ("z1", "z2"))
    z = _grid(2)
    expected = torch.stack([z[:, 0] + z[:, 1], 2 * z[:, 0]], dim=-1)
    torch.testing.assert_close(f(z), expected)
    jac = f.jacobian(z)
    assert jac.shape == (z.shape[0], 2, 2)
    torch.testing.assert_close(jac, torch.tensor([[1.0, 1.0], [2.0, 0.0]], dtype=z.dtype).expand_as(jac))
    torch.testing.assert_close(torch.linalg.det(jac), torch.full((z.shape[0],), -2.0, dtype=z.dtype))


def test_shear_sine_map() -> None:
    f = parse_map("z1, z2 + sin(z1)")
    z = _grid(2)
    torch.testing.assert_close(f(z), torch.stack([z[:, 0], z[:, 1] + torch.sin(z[:, 0])], dim=-1))
    jac = f.jacobian(z)
    expected = torch.zeros_like(jac)
    expected[:, 0, 0] = 1.0
    expected[:, 1, 0] = torch.cos(z[:, 0])
    expected[:, 1, 1] = 1.0
    torch.testing.assert_close(jac, expected)
    torch.testing.assert_close(torch.linalg.det(jac), torch.ones(z.shape[0], dtype=z.dtype))


def test_nonlinear_jacobian_matches_analytic() -> None:
    f = parse_map("z1*z2**2, exp(z1) / (1 + z2**2), tanh(z1 - 3*z2)")
    z = _grid(2)
    z1, z2 = z[:, 0], z[:, 1]
    jac = f.jacobian(z)
    sech2 = 1 - torch.tanh(z1 - 3 * z2) ** 2
    expected = torch.stack(
        [
            torch.stack([z2**2, 2 * z1 * z2], -1),
            torch.stack([torch.exp(z1) / (1 + z2**2), -2 * z2 * torch.exp(z1) / (1 + z2**2) ** 2], -1),
            torch.stack([sech2, -3 * sech2], -1),
        ],
        dim=1,
    )
    assert jac.shape == (z.shape[0], 3, 2)
    torch.testing.assert_close(jac, expected)


def test_one_dimensional_map() -> None:
    f = parse_map("2*z + 1", variables=("z",))
    assert (f.n_outputs, f.dim, f.text) == (1, 1, "2 * z + 1")
    z = _grid(1)
    torch.testing.assert_close(f(z), 2 * z + 1)
    torch.testing.assert_close(f.jacobian(z), torch.full((z.shape[0], 1, 1), 2.0, dtype=z.dtype))
    g = parse_map("sqrt(abs(x))*sigmoid(x)", variables=["x"])
    torch.testing.assert_close(g(z), torch.sqrt(torch.abs(z)) * torch.sigmoid(z))


def test_three_dimensional_map() -> None:
    f = parse_map("z1*z2, z3, exp(z1) - z3", variables=("z1", "z2", "z3"))
    z = _grid(3)
    expected = torch.stack([z[:, 0] * z[:, 1], z[:, 2], torch.exp(z[:, 0]) - z[:, 2]], -1)
    torch.testing.assert_close(f(z), expected)
    jac = f.jacobian(z)
    assert jac.shape == (z.shape[0], 3, 3)
    torch.testing.assert_close(jac[:, 0, :2], torch.stack([z[:, 1], z[:, 0]], -1))
    torch.testing.assert_close(jac[:, 2, 0], torch.exp(z[:, 0]))


def test_constants_unary_and_precedence() -> None:
    z = _grid(2)
    z1, z2 = z[:, 0], z[:, 1]
    cases: dict[str, torch.Tensor] = {
        "pi*z1, e + z2": torch.stack([math.pi * z1, math.e + z2], -1),
        "-z1**2, +z2": torch.stack([-(z1**2), z2], -1),
        "2 + 3*z1, z1 - z2 - 1": torch.stack([2 + 3 * z1, (z1 - z2) - 1], -1),
        "z1 / z2 / 2, (z1 + z2)*2": torch.stack([(z1 / z2) / 2, (z1 + z2) * 2], -1),
        "2**z1**2, -2**2": torch.stack([2 ** (z1**2), torch.full_like(z1, -4.0)], -1),
        "z1 - -z2, -(-z1)": torch.stack([z1 + z2, z1], -1),
        "min(z1, z2), max(z1, 2*z2)": torch.stack([torch.minimum(z1, z2), torch.maximum(z1, 2 * z2)], -1),
    }
    for text, expected in cases.items():
        torch.testing.assert_close(parse_map(text)(z), expected, equal_nan=True, msg=text)


def test_float_and_negative_exponents() -> None:
    z = _grid(2)
    z1, z2 = z[:, 0], z[:, 1]
    f = parse_map("abs(z1)**1.5, z2**-2")
    torch.testing.assert_close(f(z), torch.stack([torch.abs(z1) ** 1.5, z2**-2.0], -1))
    g = parse_map("z1**0.5, z1**z2")  # fractional power of a negative number is nan, not an error
    out = g(z)
    torch.testing.assert_close(out[:, 0], z1**0.5, equal_nan=True)
    torch.testing.assert_close(out[:, 1], torch.pow(z1, z2), equal_nan=True)
    assert torch.isnan(out[z1 < 0, 0]).all()
    h = parse_map("z1**2**0.5**2")  # right-associative: 2**(0.5**2)
    torch.testing.assert_close(h(z)[:, 0], torch.pow(z1, 2 ** (0.5**2)), equal_nan=True)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("sin", torch.sin),
        ("cos", torch.cos),
        ("tan", torch.tan),
        ("tanh", torch.tanh),
        ("sinh", torch.sinh),
        ("cosh", torch.cosh),
        ("exp", torch.exp),
        ("log", torch.log),
        ("sqrt", torch.sqrt),
        ("abs", torch.abs),
        ("sigmoid", torch.sigmoid),
        ("atan", torch.atan),
        ("asinh", torch.asinh),
        ("arcsinh", torch.asinh),
        ("softplus", F.softplus),
    ],
)
def test_each_function(name: str, reference: Callable[[torch.Tensor], torch.Tensor]) -> None:
    z = _grid(2)
    f = parse_map(f"{name}(z1), {name}(2*z2 + 1)")
    expected = torch.stack([reference(z[:, 0]), reference(2 * z[:, 1] + 1)], -1)
    torch.testing.assert_close(f(z), expected, equal_nan=True)


def test_non_finite_values_are_returned_not_raised() -> None:
    f = parse_map("1/z1, log(z2)")
    out = f(torch.tensor([[0.0, -1.0], [2.0, 0.0]]))
    assert math.isinf(out[0, 0]) and math.isnan(out[0, 1])
    assert out[1, 0] == 0.5 and math.isinf(out[1, 1])
    assert f.jacobian(torch.tensor([[0.0, -1.0]])).shape == (1, 2, 2)


def test_dtype_shape_and_constant_outputs() -> None:
    f = parse_map("1, z1")
    z64 = _grid(2)
    assert f(z64).dtype == torch.float64
    assert f(z64.float()).dtype == torch.float32
    torch.testing.assert_close(f(z64)[:, 0], torch.ones(z64.shape[0], dtype=torch.float64))
    torch.testing.assert_close(f.jacobian(z64)[:, 0], torch.zeros(z64.shape[0], 2, dtype=torch.float64))
    assert f(torch.tensor([[1, 2]])).dtype == torch.get_default_dtype()  # ints are converted
    assert f(torch.zeros(0, 2)).shape == (0, 2)
    assert f.jacobian(torch.zeros(0, 2)).shape == (0, 2, 2)
    assert f(z64[:, :2].t().contiguous().t()).shape == (z64.shape[0], 2)  # non-contiguous input
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        f(torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        f(torch.zeros(3))
    with pytest.raises(TypeError):
        f([[1.0, 2.0]])  # type: ignore[arg-type]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_device() -> None:
    f = parse_map("z1 + sin(z2), z1*z2")
    z = _grid(2).cuda()
    assert f(z).device == z.device and f.jacobian(z).device == z.device
    torch.testing.assert_close(f(z).cpu(), f(z.cpu()))


def test_text_normalisation_equality_and_round_trip() -> None:
    f = parse_map("  (z1)+z2 ,2*z1  ")
    assert f.text == f.to_string() == str(f) == "z1 + z2, 2 * z1"
    assert f == parse_map("z1 + z2, 2 * z1") and hash(f) == hash(parse_map("z1+z2,2*z1"))
    assert f != parse_map("z2 + z1, 2*z1")
    assert "z1 + z2, 2 * z1" in repr(f)
    for text in ["z1 - (z2 - 1)", "(z1**2)**3", "(-z1)**2", "-z1**2", "z1/(z2*3)", "-(-z1)", "2**-z1"]:
        g = parse_map(text)
        assert parse_map(g.text) == g, (text, g.text)
    assert parse_map("(-z1)**2").text == "(-z1)**2"
    assert parse_map("z1 - (z2 - 1)").text == "z1 - (z2 - 1)"
    assert parse_map("z1,").n_outputs == 1  # trailing comma: still one output
    assert pickle.loads(pickle.dumps(f)) == f


def test_parse_expression_is_single_output() -> None:
    f = parse_expression("z1*z2 + 1")
    assert f.n_outputs == 1
    z = _grid(2)
    torch.testing.assert_close(f(z)[:, 0], z[:, 0] * z[:, 1] + 1)
    g = parse_expression("x**2", variables=("x",))
    torch.testing.assert_close(g(_grid(1)), _grid(1) ** 2)
    with pytest.raises(ValueError, match="single expression"):
        parse_expression("z1, z2")


# --------------------------------------------------------------------------------------------
# Hostile and invalid inputs
# --------------------------------------------------------------------------------------------

HOSTILE: list[tuple[str, str]] = [
    ("__import__('os').system('x')", r"attribute access '\.system' is not allowed"),
    ("__import__('os')", r"unknown function '__import__'"),
    ("().__class__.__bases__", r"attribute access '\.__bases__' is not allowed"),
    ("z1.__class__", r"attribute access '\.__class__' is not allowed"),
    ("(1).real", r"attribute access '\.real'"),
    ("[z1 for z1 in ()]", r"comprehensions are not allowed"),
    ("(z1 for z1 in ())", r"comprehensions"),
    ("lambda: 1", r"lambda expressions are not allowed"),
    ("9**9**9", r"exponent 9\*\*9 .*too large \(at most 16\)"),
    ("2**100000", r"exponent 100000 too large \(at most 16\)"),
    ("z1**17", r"exponent 17 too large"),
    ("z1**(4*5)", r"exponent 4\*5 \(= 20\) too large"),
    ("z1**(1/0)", r"exponent 1/0 is not a finite number"),
    ("z1**1e9", r"number 1e9 is too large"),
    ("1e7*z1", r"number 1e7 is too large"),
    ("10000000", r"number 10000000 is too large"),
    ("'a'*10**9", r"string literals are not allowed"),
    ("b'x'", r"bytes literals are not allowed"),
    ("z1 if z1 else z2", r"conditional expressions"),
    ("z1 < z2", r"comparisons"),
    ("z1 == z2", r"comparisons"),
    ("z1 and z2", r"boolean operators"),
    ("not z1", r"'not' is not allowed"),
    ("~z1", r"bitwise '~' is not allowed"),
    ("open('f')", r"unknown function 'open'; allowed functions: abs, "),
    ("exec('1')", r"unknown function 'exec'"),
    ("eval('1')", r"unknown function 'eval'"),
    ("compile('1', '', 'eval')", r"unknown function 'compile'"),
    ("getattr(z1, 'x')", r"unknown function 'getattr'"),
    ("globals()", r"unknown function 'globals'"),
    ("x", r"unknown name 'x'; allowed names: z1, z2, pi, e"),
    ("os", r"unknown name 'os'; allowed names: z1, z2, pi, e"),
    ("__builtins__", r"unknown name '__builtins__'"),
    ("sin(x=z1)", r"keyword arguments are not allowed"),
    ("sin(*z1)", r"starred arguments are not allowed"),
    ("sin(**z1)", r"keyword arguments are not allowed"),
    ("sin(z1, z2)", r"sin\(\) takes exactly 1 argument \(2 given\)"),
    ("min(z1)", r"min\(\) takes exactly 2 arguments \(1 given\)"),
    ("sin", r"function 'sin' must be called"),
    ("z1(2)", r"'z1' is not a function"),
    ("(z1)(z2)", r"'z1' is not a function"),
    ("1(2)", r"'1' is not a function"),
    ("sin(z1)(z2)", r"'sin\(z1\)' is not a function"),
    ("1e999", r"number 1e999 is too large \(not finite\)"),
    ("1j", r"complex number 1j is not allowed"),
    ("True", r"True is not allowed"),
    ("None", r"None is not allowed"),
    ("...", r"literal \.\.\. is not allowed"),
    ("f'{z1}'", r"f-strings are not allowed"),
    ("(y := z1)", r"assignment expressions \(:=\) are not allowed"),
    ("z1 % 2", r"operator '%' is not allowed"),
    ("z1 // 2", r"operator '//' is not allowed"),
    ("z1 @ z2", r"operator '@' is not allowed"),
    ("z1 ^ z2", r"operator '\^' is not allowed"),
    ("z1[0]", r"indexing"),
    ("[z1]", r"lists"),
    ("{z1}", r"sets"),
    ("{1: z1}", r"dictionaries"),
    ("(z1, z2), z1", r"nested tuples are not allowed"),
    ("(*z1, z2)", r"starred expressions"),
    ("await z1", r"'await' is not allowed"),
    ("(yield)", r"'yield' is not allowed"),
    ("import os", r"syntax error"),
    ("z1 = 1", r"syntax error"),
    ("z1; z2", r"syntax error"),
    ("z1 +", r"syntax error: unexpected end of expression \(at column 5\)"),
    ("(z1", r"syntax error: '\(' was never closed"),
    ("z1 z2", r"syntax error"),
    ("", r"empty expression"),
    ("   \n ", r"empty expression"),
    ("()", r"empty expression"),
    ("z1, z2, z1, z2", r"too many outputs \(4; at most 3\)"),
    ("z1 \u00e9", r"character 'é' \(U\+00E9\) is not allowed"),
    ("z1\x00", r"control character \(U\+0000\) is not allowed"),
    ("\uff53\uff49\uff4e(z1)", r"U\+FF53"),  # fullwidth 'sin' (NFKC-normalised by Python)
    ("(" * 10_000 + "z1" + ")" * 10_000, r"expression too long \(more than 500 characters\)"),
    ("z1+" * 33_334 + "z1", r"expression too long \(more than 500 characters\)"),
    ("(" * 25 + "z1" + ")" * 25, r"too deeply nested \(more than 20 levels of brackets\)"),
    ("-" * 40 + "z1", r"too deeply nested \(more than 32 levels\)"),
    ("+".join(["z1"] * 120), r"too deeply nested \(more than 32 levels\)"),
    ("+".join(["*".join(["z1"] * 10)] * 16), r"expression too complex \(more than 200 terms\)"),
]


@pytest.mark.parametrize(("text", "pattern"), HOSTILE, ids=[repr(t)[:40] for t, _ in HOSTILE])
def test_hostile_inputs_are_rejected_with_specific_messages(text: str, pattern: str) -> None:
    result = _timed_parse(text)
    assert isinstance(result, ExpressionError), f"{text!r:.60} was accepted as {result}"
    assert isinstance(result, ValueError)
    assert re.search(pattern, str(result)), f"{text!r:.60}: message {str(result)!r} !~ {pattern!r}"


def test_error_positions() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_map("z1 + z2.__class__")
    assert (info.value.column, info.value.reason) == (8, "attribute access '.__class__' is not allowed")
    assert str(info.value).endswith("(at column 8)")
    with pytest.raises(ExpressionError) as info:
        parse_map("(z1,\n z2 + os)")
    assert (info.value.line, info.value.column) == (2, 7)
    assert "line 2, column 7" in str(info.value)
    with pytest.raises(ExpressionError) as info:
        parse_map("sin(z1) + z1**50")
    assert info.value.column == 15


# Each error kind, with "‸" marking the offending token; the marker is removed before parsing.
POSITIONED: list[tuple[str, str]] = [
    ("z1 + ‸os, z2", "unknown name 'os'"),
    ("z1, ‸sin", "function 'sin' must be called"),
    ("z1 ‸% z2", "operator '%' is not allowed"),
    ("(z1) ‸// (z2)", "operator '//' is not allowed"),
    ("z1 ‸< z2", "comparisons"),
    ("z1 ‸and z2", "boolean operators"),
    ("‸not z1", "'not' is not allowed"),
    ("z1 ‸. __class__", "attribute access '.__class__'"),
    ("(z1)‸.real", "attribute access '.real'"),
    ("z1‸[0]", "indexing"),
    ("z1 + ‸1e9", "number 1e9 is too large"),
    ("‸1e999", "not finite"),
    ("z1**‸50", "exponent 50 too large"),
    ("‸'a'", "string literals"),
    ("‸foo(z1)", "unknown function 'foo'"),
    ("‸z1(2)", "'z1' is not a function"),
    ("‸sin(z1, z2)", r"sin() takes exactly 1 argument (2 given)"),
    ("sin(‸x=z1)", "keyword arguments"),
    ("sin(‸*z1)", "starred arguments"),
    ("z1 + ‸é, z2", "character 'é' (U+00E9) is not allowed"),
    ("‸(z1 + z2", "'(' was never closed"),
    ("z1 + z2‸)", "unmatched ')'"),
    ("(z1 + z2‸]", "closing parenthesis ']' does not match"),
    ("z1 +‸", "unexpected end of expression"),
    ("z1 ‸z2", "syntax error"),
    ("(" * 20 + "‸(z1" + ")" * 21, "more than 20 levels of brackets"),
    ("-" * 32 + "‸" + "-" * 8 + "z1", "more than 32 levels"),
    ("‸()", "empty expression: expected at least one output"),
    ("z1, z2, z1, ‸pi", "too many outputs (4; at most 3)"),
    ("‸(z1, z2), z1", "nested tuples"),
    # the offending token on a later line, or after a tab (a tab is one column)
    ("(z1\n ‸.x, z2)", "attribute access '.x'"),
    ("(z1,\n  z2 ‸% 3)", "operator '%'"),
    ("(z1 +\n\t‸os)", "unknown name 'os'"),
    ("z1 +\t‸(z2", "'(' was never closed"),
    ("(z1 +\r\n  ‸os)", "unknown name 'os'"),
    ("(z1 # comment.\n  ‸.x)", "attribute access '.x'"),
]
PREFIXES = ["", "   ", "\t", "\t \t", "\n", "\n\n ", " \n\t\n  ", "\r\n\t "]
MARK = "‸"


def _expected_position(template: str) -> tuple[str, int, int]:
    """Text without the marker, and the (line, column) of the marked token, tab = 1 column."""
    assert template.count(MARK) == 1, template
    index = template.index(MARK)
    text = template.replace(MARK, "", 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return text, line, column


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
@pytest.mark.parametrize(("template", "reason"), POSITIONED, ids=[repr(t)[:40] for t, _ in POSITIONED])
def test_error_positions_refer_to_the_text_as_typed(prefix: str, template: str, reason: str) -> None:
    """Leading blanks, blank lines and tabs never shift the reported (line, column)."""
    text, line, column = _expected_position(prefix + template + " \n")
    assert text == prefix + template.replace(MARK, "") + " \n"
    with pytest.raises(ExpressionError) as info:
        parse_map(text)
    err = info.value
    assert reason in err.reason, f"{text!r}: {err}"
    assert (err.line, err.column) == (line, column), f"{text!r}: {err}"
    where = f"column {column}" if line == 1 else f"line {line}, column {column}"
    assert str(err) == f"{err.reason} (at {where})"


@pytest.mark.parametrize("prefix", PREFIXES, ids=repr)
def test_single_expression_error_points_at_the_comma(prefix: str) -> None:
    text, line, column = _expected_position(prefix + "(z1 + z2)‸, z1")
    with pytest.raises(ExpressionError, match="expected a single expression, got 2") as info:
        parse_expression(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_line_numbers_inside_python_messages_count_leading_blank_lines() -> None:
    with pytest.raises(ExpressionError) as info:
        parse_map("\n\n  (z1 +\n z2]")
    assert info.value.reason.endswith("does not match opening parenthesis '(' on line 3")
    assert (info.value.line, info.value.column) == (4, 4)


def test_errors_without_a_position() -> None:
    for text, pattern in [(" \n\t ", "empty expression"), ("\n" + "z1+" * 300, "expression too long")]:
        with pytest.raises(ExpressionError, match=pattern) as info:
            parse_map(text)
        assert (info.value.line, info.value.column) == (None, None)
        assert "(at " not in str(info.value)


def test_non_string_and_bad_variables() -> None:
    for value in (None, b"z1", 3, ["z1"]):
        assert isinstance(_timed_parse(value), ValueError)
    for variables in ("z1", (), ("z1", "z1"), ("sin",), ("pi",), ("__x",), ("a b",), ("lambda",), (1,)):
        with pytest.raises(ValueError):
            parse_map("1", variables)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown name 'z1'; allowed names: x, y, pi, e"):
        parse_map("z1", ("x", "y"))


def test_parser_own_limits_are_caught_when_our_limits_are_raised() -> None:
    """Even with our text limits lifted, CPython parser blow-ups come back as ValueError."""
    huge = Limits(max_length=10**6, max_bracket_depth=10**6, max_nodes=10**6, max_depth=100)
    for text in [
        "(" * 10_000 + "z1" + ")" * 10_000,  # SyntaxError: too many nested parentheses
        "-" * 100_000 + "z1",  # MemoryError: parser stack overflow
        "+".join(["z1"] * 100_000),  # RecursionError during AST construction
    ]:
        start = time.perf_counter()
        with pytest.raises(ValueError, match="nested|complex"):
            parse_map(text, limits=huge)
        assert time.perf_counter() - start < 5 * PARSE_TIME_BOUND_S
    # with only the length limit lifted, the raw bracket pre-check refuses before ast.parse
    with pytest.raises(ValueError, match="more than 20 levels of brackets"):
        parse_map("(" * 10_000 + "z1" + ")" * 10_000, limits=Limits(max_length=10**6))
    assert DEFAULT_LIMITS.max_length == 500


# --------------------------------------------------------------------------------------------
# Never eval/exec/compile: dynamic and static checks
# --------------------------------------------------------------------------------------------


def test_eval_exec_compile_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    z = _grid(2)
    warm = parse_map("sin(z1)**2, z2")  # let torch do any lazy imports before we patch builtins
    warm(z)
    warm.jacobian(z)

    real_compile = builtins.compile
    compile_calls: list[tuple[str, int]] = []

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"eval/exec called with {args!r:.80}")

    def ast_only_compile(source: Any, filename: Any, mode: str, flags: int = 0, *a: Any, **k: Any) -> Any:
        # ast.parse is implemented with compile(..., flags=PyCF_ONLY_AST): that only builds a tree.
        compile_calls.append((mode, flags))
        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError(f"compile() asked for a code object from {source!r:.80}")
        return real_compile(source, filename, mode, flags, *a, **k)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", ast_only_compile)

    for text in ["z1 + z2, 2*z1", "z1, z2 + sin(z1)", "softplus(z1)**1.5, min(z1, pi*z2)", "z1**z2"]:
        f = parse_map(text)
        assert torch.isfinite(f(z + 3)).all()
        f.jacobian(z)
    for text, _ in HOSTILE[:40]:
        with pytest.raises(ValueError):
            parse_map(text)
    assert compile_calls and all(
        mode == "eval" and flags & ast.PyCF_ONLY_AST for mode, flags in compile_calls
    )


def test_package_source_has_no_dynamic_execution() -> None:
    banned = {"eval", "exec", "compile", "__import__", "getattr", "setattr", "literal_eval"}
    banned_methods = {"eval", "exec", "literal_eval", "__import__"}  # re.compile is fine
    files = sorted(PACKAGE_DIR.glob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    assert func.id not in banned, f"{path.name}:{node.lineno} calls {func.id}"
                elif isinstance(func, ast.Attribute):
                    assert func.attr not in banned_methods, f"{path.name}:{node.lineno} calls .{func.attr}"
                    assert not (isinstance(func.value, ast.Name) and func.value.id == "builtins")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "builtins" not in modules and "importlib" not in modules, path.name


# --------------------------------------------------------------------------------------------
# Hypothesis: random text, generated valid trees, and trees with forbidden pieces
# --------------------------------------------------------------------------------------------

GRAMMARISH = "z12xe pi()+-*/,.0123456789sincoxptalqrbmgf_'\"[]{}<>=:!@%&|^~#\\\n\t;jJ"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=700), st.text(alphabet=GRAMMARISH, max_size=120)))
def test_fuzz_random_text_only_value_errors(text: str) -> None:
    result = _timed_parse(text)
    if isinstance(result, ParsedMap):
        out = result(_grid(2))
        assert out.shape == (28, result.n_outputs)
        assert parse_map(result.text) == result


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=GRAMMARISH, min_size=1, max_size=60).map(lambda t: t.strip(" \t\r\n")).filter(bool),
    st.integers(0, 3),
    st.text(alphabet=" \t", max_size=4),
)
def test_fuzz_leading_blanks_shift_positions_exactly(text: str, newlines: int, indent: str) -> None:
    """A refused text gives the same reason after blank lines and an indent are put in front,
    at the same place in the text: moved down by the lines and, on its first line, right by the indent."""
    plain = _timed_parse(text)
    shifted = _timed_parse("\n" * newlines + indent + text)
    if not isinstance(plain, ExpressionError):
        assert not isinstance(shifted, ExpressionError), shifted
        return
    assert isinstance(shifted, ExpressionError), f"{text!r} refused, but accepted after blanks"

    def moved(m: re.Match[str]) -> str:
        return f"{m.group(1)} line {int(m.group(2)) + newlines}"

    # Python's own messages name lines too: "... on line 2", "(detected at line 1)"
    assert shifted.reason == re.sub(r"\b(on|at) line (\d+)", moved, plain.reason)
    if plain.line is None:
        assert (shifted.line, shifted.column) == (None, None)
    else:
        assert plain.column is not None
        column = plain.column + len(indent) if plain.line == 1 else plain.column
        assert (shifted.line, shifted.column) == (plain.line + newlines, column)


# Test-side model of the grammar.  Trees are tuples; the renderer and evaluator below are
# written independently of the package (full parentheses, own function table).
REF_FUNCS: dict[str, tuple[int, Callable[..., torch.Tensor]]] = {
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
REF_OPS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "+": torch.add,
    "-": torch.sub,
    "*": torch.mul,
    "/": torch.div,
    "**": torch.pow,
}
VARIABLE_SETS = [("z1", "z2"), ("z",), ("x", "y", "w")]
Tree = tuple[Any, ...]


UNARY_NAMES = sorted(name for name, (arity, _) in REF_FUNCS.items() if arity == 1)
BINARY_NAMES = sorted(name for name, (arity, _) in REF_FUNCS.items() if arity == 2)
NUMBERS = st.one_of(st.integers(0, 1000), st.floats(0, 100, allow_nan=False).map(lambda x: abs(round(x, 4))))
SMALL_EXPONENTS = st.one_of(st.integers(-4, 4), st.floats(-4, 4).map(lambda x: round(x, 3)))


def _literal(x: float) -> Tree:
    return ("neg", ("num", -x)) if x < 0 or (x == 0 and math.copysign(1, x) < 0) else ("num", x)


@st.composite
def _trees(draw: st.DrawFn, variables: Sequence[str], depth: int = 5) -> Tree:
    """A random tree over the allowed grammar, at most ``depth`` levels of operations deep."""
    kind = draw(st.sampled_from(["leaf", "leaf", "unary", "bin", "bin", "pow", "call", "call2"]))
    if depth <= 0 or kind == "leaf":
        leaf = draw(st.integers(0, 3))
        if leaf <= 1:
            return ("var", draw(st.sampled_from(variables)))
        if leaf == 2:
            return ("const", draw(st.sampled_from(["pi", "e"])))
        return ("num", draw(NUMBERS))
    sub = _trees(variables, depth - 1)
    if kind == "unary":
        return (draw(st.sampled_from(["neg", "pos"])), draw(sub))
    if kind == "bin":
        return ("bin", draw(st.sampled_from(["+", "-", "*", "/", "**"])), draw(sub), draw(sub))
    if kind == "pow":  # a small literal exponent, written as a negated literal when negative
        return ("bin", "**", draw(sub), _literal(draw(SMALL_EXPONENTS)))
    if kind == "call":
        return ("call", draw(st.sampled_from(UNARY_NAMES)), (draw(sub),))
    return ("call", draw(st.sampled_from(BINARY_NAMES)), (draw(sub), draw(sub)))


def _render(t: Tree) -> str:
    kind = t[0]
    if kind == "num":
        return repr(t[1])
    if kind in ("var", "const"):
        return t[1]
    if kind == "raw":
        return f"({t[1]})"
    if kind in ("neg", "pos"):
        return f"({'-' if kind == 'neg' else '+'}{_render(t[1])})"
    if kind == "bin":
        return f"({_render(t[2])} {t[1]} {_render(t[3])})"
    return f"{t[1]}({', '.join(_render(a) for a in t[2])})"


def _ref_eval(t: Tree, cols: dict[str, torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    kind = t[0]
    if kind == "num":
        return torch.full_like(like, float(t[1]))
    if kind == "const":
        return torch.full_like(like, {"pi": math.pi, "e": math.e}[t[1]])
    if kind == "var":
        return cols[t[1]]
    if kind == "neg":
        return -_ref_eval(t[1], cols, like)
    if kind == "pos":
        return _ref_eval(t[1], cols, like)
    if kind == "bin":
        return REF_OPS[t[1]](_ref_eval(t[2], cols, like), _ref_eval(t[3], cols, like))
    return REF_FUNCS[t[1]][1](*(_ref_eval(a, cols, like) for a in t[2]))


def _has_var(t: Tree) -> bool:
    return any(s[0] == "var" for s in _subtrees(t))


def _subtrees(t: Tree) -> list[Tree]:
    kind = t[0]
    kids: list[Tree] = []
    if kind in ("neg", "pos"):
        kids = [t[1]]
    elif kind == "bin":
        kids = [t[2], t[3]]
    elif kind == "call":
        kids = list(t[2])
    return [t] + [s for k in kids for s in _subtrees(k)]


def _depth(t: Tree) -> int:
    kind = t[0]
    if kind in ("neg", "pos"):
        return 1 + _depth(t[1])
    if kind == "bin":
        return 1 + max(_depth(t[2]), _depth(t[3]))
    if kind == "call":
        return 1 + max(_depth(a) for a in t[2])
    return 1


def _bracket_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        best = max(best, depth)
    return best


def _expected_problems(trees: Sequence[Tree], text: str) -> set[str]:
    """Which limits the test model says the text breaks (empty set: it must be accepted)."""
    problems = set()
    if len(text) > DEFAULT_LIMITS.max_length:
        problems.add("too long")
    if _bracket_depth(text) > DEFAULT_LIMITS.max_bracket_depth:
        problems.add("nested")
    if sum(len(_subtrees(t)) for t in trees) > DEFAULT_LIMITS.max_nodes:
        problems.add("complex")
    if max(_depth(t) for t in trees) > DEFAULT_LIMITS.max_depth:
        problems.add("nested")
    one = torch.zeros(1, dtype=torch.float64)
    for t in trees:
        for s in _subtrees(t):
            if s[0] == "bin" and s[1] == "**" and not _has_var(s[3]):
                value = float(_ref_eval(s[3], {}, one)[0])
                if not math.isfinite(value) or abs(value) > DEFAULT_LIMITS.max_exponent:
                    problems.add("exponent")
    return problems


@st.composite
def _maps(draw: st.DrawFn) -> tuple[tuple[str, ...], list[Tree]]:
    variables = draw(st.sampled_from(VARIABLE_SETS))
    trees = draw(st.lists(_trees(variables), min_size=1, max_size=3))
    return variables, trees


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_maps())
def test_fuzz_generated_trees_match_reference(spec: tuple[tuple[str, ...], list[Tree]]) -> None:
    variables, trees = spec
    text = ", ".join(_render(t) for t in trees)
    result = _timed_parse(text, variables)
    problems = _expected_problems(trees, text)
    event("refused: " + ", ".join(sorted(problems)) if problems else "accepted")
    if problems:
        assert isinstance(result, ValueError), f"{text!r} should break {problems}"
        assert any(p in str(result) for p in problems), (str(result), problems)
        return
    assert isinstance(result, ParsedMap), f"{text!r} refused: {result}"
    assert (result.n_outputs, result.variables) == (len(trees), variables)
    assert parse_map(result.text, variables) == result  # canonical text round-trips

    z = _grid(len(variables))
    cols = {v: z[:, i].contiguous() for i, v in enumerate(variables)}
    expected = torch.stack([_ref_eval(t, cols, z[:, 0].contiguous()) for t in trees], dim=-1)
    # Same elementwise torch ops on contiguous float64 columns, so agreement is (near) exact;
    # a parsing bug (precedence, wrong function, wrong variable) changes values grossly.
    torch.testing.assert_close(result(z), expected, rtol=1e-12, atol=0, equal_nan=True)


FORBIDDEN_PIECES = [h for h, _ in HOSTILE if len(h) < 200] + ["z1.real", "z1[0:1]", "sin(x=1)", "q", "z1**40"]


@st.composite
def _maps_with_forbidden_piece(draw: st.DrawFn) -> str:
    tree = draw(_trees(("z1", "z2")))
    piece = draw(st.sampled_from(FORBIDDEN_PIECES))
    spots = _subtrees(tree)
    target = spots[draw(st.integers(0, len(spots) - 1))]
    # swap the chosen subtree for the forbidden piece
    text = _render(tree)
    rendered = _render(target)
    start = text.find(rendered)
    return text[:start] + f"({piece})" + text[start + len(rendered) :] + ", z2"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_maps_with_forbidden_piece())
def test_fuzz_forbidden_pieces_are_rejected(text: str) -> None:
    result = _timed_parse(text)
    assert isinstance(result, ExpressionError), f"{text!r} was accepted"
