"""What JacobianLens shows, as arrays: a 2D map f (a matrix or a parsed expression in z1, z2), the base
mesh and the unit square pushed through it, the Jacobian at every vertex, and the change of variables.

Direction: f maps base z to x = f(z) (the generative direction). For a linear map f(z) = A z (or affine,
f(z) = A z + b),

    J_f = A,   J_{f^-1} = A^{-1},   det J_{f^-1} = 1 / det J_f,   J_f J_{f^-1} = I,

and the density of x = A z with z ~ pi = N(0, I) is (change of variables, exact)

    p(x) = pi(A^{-1} (x - b)) |det J_{f^-1}| = pi(A^{-1} (x - b)) / |det A|.

For a nonlinear map no inverse is needed: a mesh vertex starting at z carries

    log p(f(z)) = log pi(z) - log|det J_f(z)|,

the exact log-density at its new position wherever f is invertible (as in FlowPlayer), and a 2D
histogram of pushed samples z_i ~ pi shows the same density independently.

The 3x3 part: det M is the signed volume of the parallelepiped spanned by M's columns (the image of
the unit cube), given by the six-term rule (Sarrus)

    det M = a11 a22 a33 + a12 a23 a31 + a13 a21 a32 - a13 a22 a31 - a12 a21 a33 - a11 a23 a32.

Pure computation: torch in, numpy float32 out (meta numbers as Python floats).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..expr import Limits, ParsedMap, parse_map
from ..flows.base import check_positive, check_whole
from .finite import finite32, finite_or_none, wire_float32
from .mesh import mesh_grid

__all__ = ["LECTURE_MATRIX", "LECTURE_MATRIX3", "LensScene", "SIX_TERMS", "cube_edges", "lens_scene",
           "matrix_text", "oblique_projection", "parallelepiped", "product_shown", "singular",
           "six_terms"]

#: The lecture's example, f(z) = A z with A = [[1, 1], [2, 0]] (det -2).
LECTURE_MATRIX = ((1.0, 1.0), (2.0, 0.0))
#: A 3x3 example for the parallelepiped (det 2.125).
LECTURE_MATRIX3 = ((1.0, 0.5, 0.0), (0.0, 1.0, 0.5), (0.5, 0.0, 2.0))

#: The six terms of the 3x3 determinant as (sign, ((i, j), (i, j), (i, j))) with 0-based indices.
SIX_TERMS: tuple[tuple[int, tuple[tuple[int, int], ...]], ...] = (
    (+1, ((0, 0), (1, 1), (2, 2))), (+1, ((0, 1), (1, 2), (2, 0))), (+1, ((0, 2), (1, 0), (2, 1))),
    (-1, ((0, 2), (1, 1), (2, 0))), (-1, ((0, 1), (1, 0), (2, 2))), (-1, ((0, 0), (1, 2), (2, 1))),
)

LOG_2PI = math.log(2 * math.pi)
_MATRIX_LIMITS = Limits(max_constant=math.inf)  # for the text of a matrix given in Python (finite entries)
SINGULAR_TOL = 1e-12  # a 2x2 J is singular when its rows are parallel to within this angle (see `singular`)


def six_terms(m: Sequence[Sequence[float]] | Tensor | np.ndarray) -> list[dict[str, Any]]:
    """The six signed products of the 3x3 rule, [{"label": "+ a11 a22 a33", "sign": 1, "value": ...}, ...];
    their sum is det m."""
    a = np.asarray(torch.as_tensor(m, dtype=torch.float64).cpu(), dtype=np.float64)
    if a.shape != (3, 3):
        raise ValueError(f"six_terms needs a 3x3 matrix, got shape {a.shape}")
    out = []
    with np.errstate(over="ignore", invalid="ignore"):  # a product beyond float64 is inf, without a warning
        for sign, idx in SIX_TERMS:
            label = ("+ " if sign > 0 else "- ") + " ".join(f"a{i + 1}{j + 1}" for i, j in idx)
            out.append({"label": label, "sign": sign, "value": float(sign * a[idx[0]] * a[idx[1]] * a[idx[2]])})
    return out


def parallelepiped(m: Sequence[Sequence[float]] | Tensor | np.ndarray) -> np.ndarray:
    """(8, 3) vertices M c of the image of the unit cube, c = (c1, c2, c3) in {0, 1}^3, vertex index
    c1 + 2 c2 + 4 c3 (the columns of M are the images of the basis vectors)."""
    a = np.asarray(torch.as_tensor(m, dtype=torch.float64).cpu(), dtype=np.float64)
    corners = np.array([[i & 1, (i >> 1) & 1, (i >> 2) & 1] for i in range(8)], dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return corners @ a.T


def cube_edges() -> list[tuple[int, int]]:
    """The 12 edges of the cube as vertex index pairs (vertex index c1 + 2 c2 + 4 c3)."""
    return [(i, i | b) for i in range(8) for b in (1, 2, 4) if not i & b]


def oblique_projection(p: np.ndarray, depth: float = 0.5, angle_deg: float = 30.0) -> np.ndarray:
    """Cabinet projection of 3D points (..., 3) to 2D: (u, v) = (x + k cos(a) y, z + k sin(a) y),
    k = depth. The same formula as js/src/views/lens/three.js ``project``."""
    p = np.asarray(p, dtype=np.float64)
    c, s = depth * math.cos(math.radians(angle_deg)), depth * math.sin(math.radians(angle_deg))
    return np.stack([p[..., 0] + c * p[..., 1], p[..., 2] + s * p[..., 1]], -1)


def _fmt_coef(c: float) -> str:
    """The shortest text that reads back as exactly ``c`` (1.0000001 stays 1.0000001, not 1)."""
    text = repr(float(c))
    return text[:-2] if text.endswith(".0") else text


def matrix_text(a: Sequence[Sequence[float]]) -> str:
    """The expression text of z -> A z, e.g. [[1, 1], [2, 0]] -> "z1 + z2, 2*z1"."""
    outs = []
    for row in a:
        terms = []
        for c, name in zip(row, ("z1", "z2"), strict=True):
            c = float(c)
            if c == 0:
                continue
            mag = "" if abs(c) == 1 else f"{_fmt_coef(abs(c))}*"
            sign = "-" if c < 0 else "+"
            terms.append((sign, f"{mag}{name}"))
        if not terms:
            outs.append("0*z1")
            continue
        s = ("-" if terms[0][0] == "-" else "") + terms[0][1]
        for sign, t in terms[1:]:
            s += f" {sign} {t}"
        outs.append(s)
    return ", ".join(outs)


def product_shown(m: Tensor, jinv: Tensor) -> Tensor:
    """J_f J_{f^-1} = m @ jinv as the info panel shows it: each entry within the rounding of the computation of
    the identity's entry is that entry exactly (the float64 product of [[2, 1], [1, 3]] and its computed inverse
    has -1.1e-16 off the diagonal: rounding, not a digit of the product). The bound, entry by entry:
    8 eps cond(m) (|m| |jinv|)_ij, eps = 2^-53: the product's own rounding and that of jinv, whose relative error
    grows with the condition number. An entry further from I than that is shown as computed."""
    p = m @ jinv
    eye = torch.eye(m.shape[0], dtype=p.dtype)
    eps = float(torch.finfo(p.dtype).eps)
    bound = 8 * eps * float(torch.linalg.cond(m)) * (m.abs() @ jinv.abs())
    return torch.where((p - eye).abs() <= bound, eye, p)


def _log_normal(z: Tensor) -> Tensor:
    return -0.5 * (z * z).sum(-1) - LOG_2PI


def _finite_rows(m: Tensor) -> list[list[float | None]]:
    """A matrix as JSON rows: None for an entry that is NaN or inf (the browser shows "non-finite")."""
    return [[finite_or_none(v) for v in row] for row in m.tolist()]


def singular(J: Tensor) -> Tensor:
    """Where the 2x2 matrices J (..., 2, 2) are singular: |det J| <= SINGULAR_TOL |J_1.| |J_2.|, i.e. the rows
    (the gradients of x1 and x2) parallel to within SINGULAR_TOL radians (Hadamard: |det J| <= |J_1.| |J_2.|, equal
    for orthogonal rows). Scale-free: diag(1e6, 1e-6) (det 1) and 1e-7 I are invertible; the singular map
    (0.1 z1 + 0.3 z2, 0.13 z1 + 0.39 z2) written with decimals is singular (rounding leaves |det| ~ 1e-18). Tested
    in logs, so that neither det J (diag(e^400, e^400)) nor the product of the norms overflows float64; a J
    with a NaN or inf entry counts as singular. js/src/views/lens/linalg.js isSingular is the browser's copy."""
    sign, logabs = torch.linalg.slogdet(J)
    rows = torch.hypot(J[..., 0], J[..., 1])  # (..., 2) row norms, without overflow in the squares
    bound = math.log(SINGULAR_TOL) + torch.log(rows).sum(-1)
    return (sign == 0) | ~(logabs > bound) | ~torch.isfinite(J).flatten(-2).all(-1)


def _bounds(p: Tensor, ok: Tensor, pad: float = 0.1) -> list[float]:
    pts = p[ok]
    if pts.shape[0] < 2:
        return [-4.0, 4.0, -4.0, 4.0]
    lo, hi = pts.min(0).values, pts.max(0).values
    span = torch.clamp(hi - lo, min=1e-3)
    lo, hi = lo - pad * span, hi + pad * span
    return [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]


def _quantile_box(p: Tensor, q: float = 0.005) -> list[float]:
    ok = finite32(p).all(-1)
    pts = p[ok]
    if pts.shape[0] < 10:
        return [-4.0, 4.0, -4.0, 4.0]
    qs = torch.quantile(pts, torch.tensor([q, 1 - q], dtype=pts.dtype), dim=0)
    lo, hi = qs[0], qs[1]
    span = torch.clamp(hi - lo, min=1e-2)
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    return [float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])]


@dataclass
class LensScene:
    """Arrays for one map f (float32 numpy) with V = gx * gy mesh vertices and N samples.

    folded (2, V): 1 where the map folds (det J_f of the minority sign; state 0 all 0);
    mesh (2, V, 2): state 0 the base mesh z, state 1 its image f(z); logp (2, V): log pi(z) and
    log pi(z) - log|det J_f(z)|; finite (2, V): position and log-density finite; placed (2, V): position
    finite (a singular map's image is finite with log p = +inf: its grid lines are drawn, its cells not);
    jac (1, V, 4): J_f(z) row-major; logdet (1, V):
    log|det J_f(z)|; points (2, N, 2): samples z ~ N(0, I) and f(z); square (5, 2): the unit square
    (closed); square_image (M, 2): its image under f (exact for a linear map, 64 boundary points
    otherwise); hist (B, B): the histogram density of f(z_i) over ``hist_extent`` (row = x2 bin);
    formula (B, B): p(x) = pi(A^{-1} (x - b)) |det J_{f^-1}| at the bin centres (linear or affine invertible
    maps only).
    """

    mesh: np.ndarray
    logp: np.ndarray
    finite: np.ndarray
    placed: np.ndarray
    folded: np.ndarray
    jac: np.ndarray
    logdet: np.ndarray
    vertex_det: np.ndarray   # (1, V) det J_f per vertex, computed in float64 (0 where not finite); wire "det"
    jac_finite: np.ndarray   # (1, V) 1 where J_f (and its det) is finite in float32: the readout can show it
    points: np.ndarray
    square: np.ndarray
    square_image: np.ndarray
    hist: np.ndarray
    formula: np.ndarray | None
    gx: int
    gy: int
    text: str
    linear: bool
    matrix: list[list[float | None]]   # J_f (the map's matrix if linear, else J_f at z = 0); None: not finite
    jinv: list[list[float | None]] | None     # J_{f^-1} = J_f^{-1} (None when singular)
    product: list[list[float | None]] | None  # J_f J_{f^-1}
    det: float                         # det J_f (NaN where it under- or overflows float64 or J_f is not finite)
    det_inv: float | None              # det J_{f^-1}
    orientation: str                   # "preserved" | "reversed" | "mixed" | "collapsed"
    status: str
    message: str
    logp_range: tuple[float, float]
    bounds: list[list[float]]
    hist_extent: list[float]
    n_samples: int

    @property
    def V(self) -> int:
        return int(self.mesh.shape[1])

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays as the wire format names them (FlowPlayer's one-layer format plus the lens extras)."""
        out = {"mesh": self.mesh, "logp": self.logp, "finite": self.finite, "placed": self.placed,
               "folded": self.folded, "jac": self.jac,
               "logdet": self.logdet, "det": self.vertex_det, "jac_finite": self.jac_finite,
               "points": self.points, "square": self.square,
               "square_image": self.square_image, "hist": self.hist}
        if self.formula is not None:
            out["formula"] = self.formula
        return out

    def meta(self, version: int = 0) -> dict[str, Any]:
        """JSON metadata (finite numbers only: a matrix entry that is NaN or inf is None, and so is ``det`` when
        J_f has such an entry, e.g. J_f(0) of log(z1), or when det J_f overflows float64 (then ``det_inv``,
        which underflows, is None too); the browser shows "non-finite")."""
        det_exists = all(v is not None for row in self.matrix for v in row)
        return {
            "K": 1, "N": int(self.points.shape[1]), "gx": self.gx, "gy": self.gy,
            "layers": [{"name": "f", "caption": f"x = f(z) = ({self.text})",
                        "invertible": self.status == "ok", "nonfinite": 0, "enabled": True}],
            "base": "N(0, I)", "text": self.text, "linear": self.linear, "matrix": self.matrix,
            "jinv": self.jinv, "product": self.product, "det": finite_or_none(self.det) if det_exists else None,
            "det_inv": self.det_inv,
            "orientation": self.orientation, "status": self.status, "message": self.message,
            "logp_range": [float(v) for v in self.logp_range], "bounds": self.bounds,
            "hist_extent": self.hist_extent, "n_samples": self.n_samples, "version": version,
        }


def _as_map(f: ParsedMap | str | Sequence[Sequence[float]] | Tensor | np.ndarray
            ) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor], str, np.ndarray | None]:
    """(f, jacobian, text, matrix or None) for a ParsedMap, expression text or 2x2 matrix."""
    if isinstance(f, str):
        f = parse_map(f)
    if isinstance(f, ParsedMap):
        if f.dim != 2 or f.n_outputs != 2:
            raise ValueError(f"JacobianLens needs a map of z1, z2 with two outputs, got {f.n_outputs} output(s)")
        pm = f
        return (lambda z: pm(z)), (lambda z: pm.jacobian(z)), pm.text, None
    a = np.asarray(torch.as_tensor(f, dtype=torch.float64).cpu(), dtype=np.float64)
    if a.shape != (2, 2) or not np.isfinite(a).all():
        raise ValueError(f"the matrix must be 2x2 with finite entries, got {a.tolist()}")
    at = torch.as_tensor(a)

    def lin(z: Tensor) -> Tensor:
        return z @ at.to(z.dtype).T

    def jac(z: Tensor) -> Tensor:
        return at.to(z.dtype).expand(z.shape[0], 2, 2).clone()

    # the text box's form of x = A z; the entries are the caller's numbers, not typed: no limit on their size
    return lin, jac, parse_map(matrix_text(a.tolist()), limits=_MATRIX_LIMITS).text, a


@torch.no_grad()
def lens_scene(f: ParsedMap | str | Sequence[Sequence[float]] | Tensor | np.ndarray = LECTURE_MATRIX, *,
               grid: int = 33, extent: float = 3.0, n_samples: int = 20_000, bins: int = 48, seed: int = 0
               ) -> LensScene:
    """Compute everything JacobianLens shows for the map ``f`` (z -> x): a 2x2 matrix A (x = A z), an
    expression text such as ``"z1, z2 + sin(z1)"`` (parsed by :func:`flowviz.expr.parse_map`, never
    evaluated as code) or a :class:`~flowviz.expr.ParsedMap`.

    A map whose Jacobian is the same at every mesh vertex (e.g. ``"z1 + z2, 2*z1"``, or ``"z1 + 2, z2 + 1"``
    with an offset b = f(0)) is treated as linear (``linear``: x = A z + b): its matrix, inverse and the exact
    density formula p(x) = pi(A^-1 (x - b)) / |det A| are reported.
    """
    fn, jfn, text, a = _as_map(f)
    grid = check_whole(grid, "grid (vertices per side)", 3, 201)
    n_samples = check_whole(n_samples, "n_samples", 100, 2_000_000)
    bins = check_whole(bins, "bins", 4, 256)
    extent = check_positive(extent, "extent")
    dt = torch.float64
    gx = gy = int(grid)
    z = mesh_grid((-extent, extent, -extent, extent), gx, gy, dtype=dt)
    x = fn(z)
    with torch.enable_grad():
        J = jfn(z).to(dt)
    det = torch.linalg.det(J)

    # linear or affine (constant Jacobian) maps, x = A z + b: exact matrix, b = f(0); else J_f at z = 0
    linear = a is not None
    offset = torch.zeros(2, dtype=dt)
    if a is None and bool(torch.isfinite(J).all()):
        spread = (J - J[:1]).abs().max()
        if float(spread) <= 1e-9 * max(1.0, float(J.abs().max())):
            offset = fn(torch.zeros(1, 2, dtype=dt))[0]
            resid = (x - offset - z @ J[0].T).abs().max()
            linear = float(resid) <= 1e-9 * max(1.0, float(x.abs().max()))
            if linear:
                a = J[0].numpy()
    if a is not None:
        m = torch.as_tensor(a, dtype=dt)
    else:
        m = jfn(torch.zeros(1, 2, dtype=dt)).to(dt)[0]
    mdet = float(torch.linalg.det(m))
    m_ok = not bool(singular(m))
    sign, logabs = (float(v) for v in torch.linalg.slogdet(m)) if m_ok else (0.0, -math.inf)
    # diag(e^400, e^400): det e^800, and 1e-170 I: det 1e-340, invertible, not "det 0"; beyond float64 either way
    det_overflow = m_ok and (not math.isfinite(mdet) or mdet == 0.0)
    jinv = torch.linalg.inv(m) if m_ok else None

    ok = torch.isfinite(x).all(-1) & torch.isfinite(J).flatten(1).all(-1)
    dets_ok = det[ok]
    status, message = "ok", ""
    if linear:
        if not m_ok:
            status, message = "not invertible", "det J_f = 0: the map squashes the plane onto a line or a point"
        elif det_overflow:
            status = "non-finite"
            message = f"det J_f = {'-' if sign < 0 else ''}exp({logabs:.6g}) is beyond float64's range"
    else:
        # each vertex's J on its own (as the browser's hover tests it): a global scale would call
        # det J = 3 exp(3 z2) of (z1, exp(3 z2)) zero where z2 is small, next to the large J elsewhere
        if dets_ok.numel() == 0:
            status, message = "not invertible", "the map is not finite on the mesh"
        elif bool(singular(J[ok]).any()) or (bool((dets_ok > 0).any()) and bool((dets_ok < 0).any())):
            status, message = "not invertible", "det J_f changes sign or vanishes: the map folds the plane"
        elif int((~ok).sum()):
            message = f"{int((~ok).sum())} mesh vertices map to non-finite values"
    if linear:
        orientation = "collapsed" if not m_ok else ("reversed" if sign < 0 else "preserved")
    elif dets_ok.numel() and bool((dets_ok > 0).all()):
        orientation = "preserved"
    elif dets_ok.numel() and bool((dets_ok < 0).all()):
        orientation = "reversed"
    else:
        orientation = "mixed"

    logdet = torch.log(det.abs())
    logp0 = _log_normal(z)
    logp1 = logp0 - logdet
    # what the browser gets is float32: a position, J or density beyond float32's range is not finite there
    placed1 = finite32(x).all(-1)
    ok32 = ok & placed1 & finite32(J).flatten(1).all(-1)
    beyond = int((ok & ~ok32).sum())
    if beyond and status == "ok":
        message = "; ".join(filter(None, [message, f"{beyond} mesh vertices beyond float32's range (not drawn)"]))
    below = int((ok32 & (x != 0).any(-1) & (x.to(torch.float32) == 0).all(-1)).sum())
    if below and status == "ok":  # 1e-30 z: every position flushes to 0 in float32
        message = "; ".join(filter(None, [message, f"{below} mesh vertices below float32's range (drawn at 0)"]))
    ok1 = ok32 & finite32(logp1)
    finite = torch.stack([torch.ones_like(ok), ok1]).to(torch.float32)
    placed = torch.stack([torch.ones_like(ok), placed1]).to(torch.float32)
    # folds (the renderer's red hatching): only where det J_f has the minority sign, so that an
    # orientation-reversing but invertible map (det < 0 everywhere) is not marked
    sgn = torch.sign(torch.where(ok, det, torch.zeros_like(det)))
    major = 1.0 if float(sgn.sum()) >= 0 else -1.0
    folded = torch.zeros(2, det.shape[0], dtype=torch.float32)
    if orientation == "mixed":
        folded[1] = (sgn == -major).to(torch.float32)
    good = logp1[ok1]
    lo = float(torch.quantile(good, 0.02)) if good.numel() > 10 else -10.0
    hi = float(good.max()) if good.numel() else 0.0
    lo = min(lo, float(logp0.min()))
    hi = max(hi, float(logp0.max()))
    if not (hi > lo):
        lo, hi = lo - 1, hi + 1

    # samples pushed through f and their histogram
    g = torch.Generator().manual_seed(int(seed))
    zs = torch.randn(int(n_samples), 2, generator=g, dtype=dt)
    xs = fn(zs)
    xs_ok = finite32(xs).all(-1)
    box = _quantile_box(xs)
    hist = np.zeros((bins, bins), dtype=np.float64)
    if bool(xs_ok.any()):
        pts = xs[xs_ok].numpy()
        counts, _, _ = np.histogram2d(pts[:, 1], pts[:, 0], bins=bins, range=[[box[2], box[3]], [box[0], box[1]]])
        area = (box[1] - box[0]) * (box[3] - box[2]) / bins**2
        hist = counts / (int(n_samples) * area)
    formula = None
    if linear and jinv is not None:
        cx = box[0] + (np.arange(bins) + 0.5) * (box[1] - box[0]) / bins
        cy = box[2] + (np.arange(bins) + 0.5) * (box[3] - box[2]) / bins
        yy, xx = np.meshgrid(cy, cx, indexing="ij")
        xc = torch.as_tensor(np.stack([xx.ravel(), yy.ravel()], -1))
        zc = (xc - offset) @ jinv.T  # z = A^-1 (x - b)
        formula = (torch.exp(_log_normal(zc)) * abs(float(torch.linalg.det(jinv)))).reshape(bins, bins).numpy()

    # the unit square and its image
    sq = torch.tensor([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]], dtype=dt)
    if linear:
        sq_img = sq @ m.T + offset
    else:
        t = torch.linspace(0, 1, 17, dtype=dt)[:-1]
        edges = [torch.stack([t, 0 * t], -1), torch.stack([1 + 0 * t, t], -1),
                 torch.stack([1 - t, 1 + 0 * t], -1), torch.stack([0 * t, 1 - t], -1)]
        boundary = torch.cat(edges + [sq[:1]])
        sq_img = fn(boundary)

    b0 = _bounds(z, torch.ones_like(ok))
    sq_ok = finite32(sq_img).all(-1)
    b1 = _bounds(torch.cat([x[ok32], sq_img[sq_ok]]), torch.ones(int(ok32.sum()) + int(sq_ok.sum()), dtype=torch.bool))
    pts_ok = xs_ok[:, None]
    return LensScene(
        mesh=wire_float32(torch.stack([z, torch.where(placed1[:, None], x, torch.zeros_like(x))])),
        logp=wire_float32(torch.stack([logp0, torch.where(ok1, logp1, torch.zeros_like(logp1))])),
        finite=np.ascontiguousarray(finite.numpy()), placed=np.ascontiguousarray(placed.numpy()),
        folded=np.ascontiguousarray(folded.numpy()),
        jac=wire_float32(J.reshape(1, -1, 4)),
        logdet=wire_float32(logdet[None]),
        vertex_det=wire_float32(det[None]),
        jac_finite=np.ascontiguousarray((finite32(J).flatten(1).all(-1) & finite32(det))[None].numpy(),
                                        dtype=np.float32),
        points=wire_float32(torch.stack([zs, torch.where(pts_ok, xs, torch.zeros_like(xs))])),
        square=wire_float32(sq), square_image=wire_float32(sq_img),
        hist=np.ascontiguousarray(hist, dtype=np.float32),
        formula=None if formula is None else np.ascontiguousarray(formula, dtype=np.float32),
        gx=gx, gy=gy, text=text, linear=bool(linear),
        matrix=_finite_rows(m),
        jinv=None if jinv is None else _finite_rows(jinv),
        product=None if jinv is None else _finite_rows(product_shown(m, jinv)),
        det=math.nan if det_overflow else mdet,
        det_inv=None if jinv is None or det_overflow else finite_or_none(torch.linalg.det(jinv)),
        orientation=orientation, status=status, message=message, logp_range=(lo, hi),
        bounds=[b0, b1], hist_extent=box, n_samples=int(n_samples),
    )
