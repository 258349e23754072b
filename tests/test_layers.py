"""Every layer against autograd: log_det = log|det J| (torch.func), inverse(forward(z)) = z,
inverse's log_det = -forward's, and the triangular zero pattern of coupling/autoregressive layers.
Property-based over dimensions, batch sizes and (perturbed, non-identity) parameters, in float64."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_zoo import LAYERS, inputs, make

from flowviz import flows as F

NAMES = sorted(LAYERS)


def _case(name: str, data: st.DataObject) -> tuple[F.Bijection, torch.Tensor]:
    min_dim = LAYERS[name][1]
    dim = data.draw(st.integers(min_dim, 5), label="dim")
    n = data.draw(st.integers(1, 7), label="n")
    seed = data.draw(st.integers(0, 10_000), label="seed")
    return make(name, dim, seed), inputs(name, n, dim, seed)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_log_det_matches_autograd_jacobian(name: str, data: st.DataObject) -> None:
    layer, z = _case(name, data)
    x, log_det = layer(z)
    assert log_det.shape == (z.shape[0],)
    reference = F.log_abs_det_jacobian(layer, z)
    torch.testing.assert_close(log_det, reference, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_inverse_undoes_forward_and_negates_log_det(name: str, data: st.DataObject) -> None:
    layer, z = _case(name, data)
    x, log_det = layer(z)
    z_back, inv_log_det = layer.inverse(x)
    torch.testing.assert_close(z_back, z, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(inv_log_det, -log_det, atol=1e-6, rtol=1e-6)
    # the inverse's own log_det against autograd of the inverse map
    torch.testing.assert_close(inv_log_det, F.log_abs_det_jacobian(layer, x, direction="inverse"),
                               atol=1e-6, rtol=1e-6)


def test_perturbed_layers_are_not_identity() -> None:
    """Guard against the flowjax#208 trap: maps with log_det 0 everywhere hide sign bugs."""
    for name in NAMES:
        if name in ("Permute", "Reverse", "AdditiveCoupling"):
            continue  # volume preserving by design
        layer, z = make(name, 3 if LAYERS[name][1] <= 3 else 4, 7), inputs(name, 5, 3, 7)
        _, log_det = layer(z)
        assert log_det.abs().max() > 1e-3, name


@pytest.mark.parametrize("cls", [F.AdditiveCoupling, F.AffineCoupling, F.SplineCoupling])
@pytest.mark.parametrize("dim", [2, 3, 6])
def test_coupling_jacobian_is_block_triangular(cls: type[F.Coupling], dim: int) -> None:
    g = torch.Generator().manual_seed(dim)
    layer = cls(dim, parity=1).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    z = torch.randn(4, dim, generator=g, dtype=torch.float64)
    J = F.jacobian(layer, z)
    a, b = layer.idx_a, layer.idx_b
    # kept part: x_A = z_A exactly
    torch.testing.assert_close(J[:, a][:, :, a], torch.eye(len(a), dtype=J.dtype).expand(4, -1, -1))
    assert (J[:, a][:, :, b] == 0).all()
    # transformed part: dx_B/dz_B diagonal, and (for the non-additive ones) dx_B/dz_A is not zero
    jbb = J[:, b][:, :, b]
    assert (jbb - torch.diag_embed(torch.diagonal(jbb, dim1=1, dim2=2)) == 0).all()
    assert J[:, b][:, :, a].abs().max() > 1e-4
    # determinant = product of the diagonal
    diag = torch.diagonal(J, dim1=1, dim2=2)
    torch.testing.assert_close(torch.log(diag.abs()).sum(-1), layer(z)[1])


@pytest.mark.parametrize("transform", ["affine", "spline", "affine-density", "spline-density"])
@pytest.mark.parametrize("dim", [2, 4, 7])
def test_autoregressive_jacobian_is_lower_triangular(transform: str, dim: int) -> None:
    g = torch.Generator().manual_seed(dim)
    kind, _, direction = transform.partition("-")
    layer = F.MaskedAutoregressive(dim, hidden=32, transform=kind, bins=4, bound=3.0,
                                   direction=direction or "sampling").double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    z = torch.randn(3, dim, generator=g, dtype=torch.float64)
    J = F.jacobian(layer, z)
    upper = torch.triu(torch.ones(dim, dim, dtype=torch.bool), 1)
    assert (J[:, upper] == 0).all()
    assert J[:, ~upper & ~torch.eye(dim, dtype=torch.bool)].abs().max() > 1e-4  # really autoregressive
    diag = torch.diagonal(J, dim1=1, dim2=2)
    torch.testing.assert_close(torch.log(diag.abs()).sum(-1), layer(z)[1])
    # the inverse (the density direction, one pass) is lower triangular too
    Ji = F.jacobian(layer, layer(z)[0], direction="inverse")
    assert (Ji[:, upper] == 0).all()


def test_fresh_coupling_and_autoregressive_layers_start_as_identity() -> None:
    z = torch.randn(10, 3)
    for layer in [F.AffineCoupling(3), F.SplineCoupling(3), F.MaskedAutoregressive(3),
                  F.MaskedAutoregressive(3, transform="spline")]:
        x, ld = layer(z)
        torch.testing.assert_close(x, z, atol=1e-5, rtol=0)
        torch.testing.assert_close(ld, torch.zeros(10), atol=1e-5, rtol=0)


def test_every_layer_builds_for_2d_with_defaults() -> None:
    z = torch.randn(6, 2)
    for cls in [F.Affine, F.Linear, F.Permute, F.Reverse, F.Planar, F.Radial, F.AdditiveCoupling,
                F.AffineCoupling, F.SplineCoupling, F.MaskedAutoregressive, F.ActNorm, F.Sigmoid, F.SinhArcsinh]:
        x, ld = cls(2)(z)
        assert x.shape == (6, 2) and ld.shape == (6,) and torch.isfinite(x).all(), cls.__name__


def test_affine_coupling_scale_can_expand_and_contract() -> None:
    layer = F.AffineCoupling(2)
    with torch.no_grad():
        layer.conditioner[-1].bias.copy_(torch.tensor([0.0, 2.0]))  # s = +2-ish: expand
    assert layer(torch.randn(5, 2))[1].min() > 1.5
    with torch.no_grad():
        layer.conditioner[-1].bias.copy_(torch.tensor([0.0, -2.0]))  # contract
    assert layer(torch.randn(5, 2))[1].max() < -1.5


def test_actnorm_initialises_from_the_first_data_it_inverts() -> None:
    """Data-dependent initialisation (Kingma & Dhariwal 2018): the first inverse in training mode sets
    shift = mean(x), log_scale = log std(x), so that this batch comes out standardised; later batches,
    eval mode and a loaded state do not re-initialise."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(4000, 2, generator=g) * torch.tensor([3.0, 0.2]) + torch.tensor([5.0, -1.0])
    layer = F.ActNorm(2)
    z, log_det = layer.inverse(x)
    torch.testing.assert_close(z.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(z.std(0), torch.ones(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(log_det, -torch.log(x.std(0)).sum().expand(4000), atol=1e-5, rtol=0)
    kept = (layer.shift.clone(), layer.log_scale.clone())
    layer.inverse(x * 10)  # a second batch does not move the parameters
    assert torch.equal(layer.shift, kept[0]) and torch.equal(layer.log_scale, kept[1])
    fresh = F.ActNorm(2).eval()
    fresh.inverse(x)  # eval mode: no initialisation
    assert not bool(fresh.initialized) and torch.equal(fresh.shift, torch.zeros(2))
    loaded = F.ActNorm(2)
    loaded.load_state_dict(layer.state_dict())
    loaded.inverse(x * 10)  # already initialised by the loaded state
    assert torch.equal(loaded.shift, kept[0])


def _radial_at(centre: list[float], alpha: float, beta: float) -> tuple[F.Radial, float, torch.Tensor]:
    """A float64 Radial layer, its 1 + beta/alpha (from the stored parameters) and its centre as a (1, 2) batch."""
    layer = F.Radial(2, centre=centre, alpha=alpha, beta=beta).double()
    return layer, float((1 + layer.beta / layer.alpha).detach()), torch.tensor([centre], dtype=torch.float64)


def test_radial_jacobian_and_gradients_at_its_centre_are_finite() -> None:
    """At z = z0: x = z0 and J = (1 + beta/alpha) I (the radial term vanishes with z - z0); r = |z - z0| must
    not be sqrt(sum (z - z0)^2), whose derivative at 0 is 0 * inf = NaN in autograd."""
    layer, scale, z0 = _radial_at([0.5, -0.25], alpha=0.7, beta=0.4)
    eye = torch.eye(2, dtype=torch.float64)
    torch.testing.assert_close(F.jacobian(layer, z0)[0], scale * eye, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(F.jacobian(layer, z0, direction="inverse")[0], eye / scale, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer(z0)[1], torch.tensor([2 * math.log(scale)], dtype=torch.float64))
    # a data point exactly at the centre: the NLL's gradients are finite (NaN before)
    flow = F.Flow([layer])
    (-flow.log_prob(torch.tensor([[0.5, -0.25], [1.0, 1.0]], dtype=torch.float64)).mean()).backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_player_readout_jacobian_at_the_radial_centre_vertex() -> None:
    """The FlowPlayer's readout (scene.player.forward_with_jacobian) at a mesh vertex on the centre:
    (1 + beta/alpha) I, and autograd's Jacobian (float64 jacrev) at the other vertices."""
    from flowviz.scene.player import forward_with_jacobian

    layer, scale, _ = _radial_at([0.5, -0.5], alpha=0.5, beta=1.0)
    t = torch.linspace(-1.5, 2.5, 9, dtype=torch.float64)  # 0.5 is a grid value: one vertex on the centre
    u = torch.linspace(-2.5, 1.5, 9, dtype=torch.float64)  # -0.5 too
    vertices = torch.cartesian_prod(t, u)
    at_centre = ((vertices - torch.tensor([0.5, -0.5], dtype=torch.float64)).abs().sum(-1) == 0).nonzero()[:, 0]
    assert at_centre.numel() == 1
    out, log_det, J = forward_with_jacobian(layer, vertices)
    assert torch.isfinite(J).all()
    torch.testing.assert_close(J[at_centre[0]], scale * torch.eye(2, dtype=torch.float64), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(J, F.jacobian(layer, vertices), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(log_det, torch.linalg.slogdet(J)[1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("tail", [2.0, 0.5])
def test_sinh_arcsinh_log_det_stays_finite_at_huge_inputs(tail: float) -> None:
    """log|det J| at |z| up to 1e30 in float32 (z * z and cosh overflow there) against autograd in float64."""
    layer = F.SinhArcsinh(1, skew=0.3, tailweight=tail)
    z = torch.tensor([[1e20], [-3e25], [1e30], [0.5], [-2.0]])
    reference = F.log_abs_det_jacobian(F.SinhArcsinh(1, skew=0.3, tailweight=tail).double(), z.double())
    log_det = layer(z)[1]
    assert torch.isfinite(log_det).all()
    torch.testing.assert_close(log_det.double(), reference, rtol=1e-6, atol=1e-5)
    # the inverse at huge x, against autograd of the inverse map in float64
    x = torch.tensor([[1e20], [-3e25], [0.5]])
    reference = F.log_abs_det_jacobian(F.SinhArcsinh(1, skew=0.3, tailweight=tail).double(), x.double(), "inverse")
    inv_log_det = layer.inverse(x)[1]
    assert torch.isfinite(inv_log_det).all()
    torch.testing.assert_close(inv_log_det.double(), reference, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", ["SplineCoupling", "MAFSpline", "MAFSplineDensity", "Affine", "Planar"])
def test_jacobian_of_an_empty_batch_is_empty(name: str) -> None:
    """N = 0 rows: an empty (0, d, d) tensor (vmap over no rows broke the spline layers' reshapes)."""
    layer = make(name, 3, 0)
    empty = torch.zeros(0, 3, dtype=torch.float64)
    for direction in ("forward", "inverse"):
        J = F.jacobian(layer, empty, direction=direction)
        assert J.shape == (0, 3, 3) and J.dtype == torch.float64
    assert F.log_abs_det_jacobian(layer, empty).shape == (0,)


def test_jacobian_of_an_empty_batch_is_empty_for_flows_and_functions() -> None:
    flow = F.nsf(2, layers=1)
    assert F.jacobian(flow, torch.zeros(0, 2)).shape == (0, 2, 2)
    assert F.jacobian(lambda v: v[:, :1] * 2, torch.zeros(0, 2)).shape == (0, 1, 2)  # a plain function


def _radial_log_det_formula(r: float, alpha: float, beta: float, dim: int) -> float:
    """log|det J| of the radial map at radius r, from the paper's formula in Python floats (float64):
    (d - 1) log|1 + beta h| + log|1 + beta h + beta h' r|, h = 1/(alpha + r), h' = -h^2."""
    h = 1 / (alpha + r)
    return (dim - 1) * math.log(abs(1 + beta * h)) + math.log(abs(1 + beta * h - beta * h * h * r))


@pytest.mark.parametrize("dtype, far", [(torch.float32, 1e8), (torch.float64, 1e17)])
def test_radial_gradients_stay_finite_beside_a_distant_point(dtype: torch.dtype, far: float) -> None:
    """One point far from the centre (q + s rounds to 0 in the inverse's unused branch 2 alpha r / (q + s)) must
    not turn every parameter's gradient into NaN (0 * inf in the backward of torch.where): the gradient of the
    near point's log-density equals its gradient computed without the far point, and float64's."""
    def grads(x: torch.Tensor, dt: torch.dtype) -> dict[str, torch.Tensor]:
        layer = F.Radial(2, centre=[0.1, -0.2], alpha=1.0, beta=0.5).to(dt)
        F.Flow([layer]).log_prob(x.to(dt))[0].backward()
        return {n: p.grad.double() for n, p in layer.named_parameters()}

    with_far = grads(torch.tensor([[0.5, 0.5], [far, 0.0]], dtype=dtype), dtype)
    alone = grads(torch.tensor([[0.5, 0.5]], dtype=dtype), dtype)
    reference = grads(torch.tensor([[0.5, 0.5]]), torch.float64)
    for name, g in with_far.items():
        assert torch.isfinite(g).all(), name
        torch.testing.assert_close(g, alone[name], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(g, reference[name], rtol=1e-5, atol=1e-5)


def test_radial_is_exact_in_float32_from_tiny_to_huge_radii() -> None:
    """|z - z0| from 1e-30 to 1e30 in float32: vector_norm's squares overflowed beyond 1.8e19 (log_det NaN), the
    inverse's q^2 beyond 1.8e19. log_det against the formula in float64, the round trip against z."""
    alpha, beta = 0.7, 0.4
    layer = F.Radial(2, centre=[0.3, -0.2], alpha=alpha, beta=beta)
    radii = 10.0 ** torch.arange(-30, 31, 3.0, dtype=torch.float64)
    angles = torch.tensor([0.3, 1.2, 2.5, 4.0, 5.5], dtype=torch.float64)
    offsets = torch.stack([radii[:, None] * torch.cos(angles), radii[:, None] * torch.sin(angles)], -1).reshape(-1, 2)
    z = (torch.tensor([0.3, -0.2], dtype=torch.float64) + offsets).float()
    x, log_det = layer(z)
    r = (z.double() - layer.centre.detach().double()).norm(dim=-1)
    a, b = float(layer.alpha.detach()), float(layer.beta.detach())
    expected = torch.tensor([_radial_log_det_formula(float(v), a, b, 2) for v in r], dtype=torch.float64)
    assert torch.isfinite(x).all() and torch.isfinite(log_det).all()
    torch.testing.assert_close(log_det.double(), expected, rtol=0, atol=1e-6)
    z_back, inv_log_det = layer.inverse(x)
    assert torch.isfinite(inv_log_det).all()
    torch.testing.assert_close(inv_log_det.double(), -expected, rtol=0, atol=1e-6)
    error = (z_back - z).abs().amax(-1).double() / r.clamp_min(1e-30)
    assert error.max() < 1e-6


@pytest.mark.parametrize("alpha", [1e-20, 1e-30])
def test_radial_with_a_tiny_alpha_has_the_formulas_log_det_at_its_centre(alpha: float) -> None:
    """At the centre J = (1 + beta/alpha) I: log|det J| = 2 log1p(beta/alpha) (90.717 for alpha = 1e-20), where
    h' r = -h^2 r overflowed to inf * 0 = NaN in float32."""
    beta = 0.5
    layer = F.Radial(2, alpha=alpha, beta=beta)
    a, b = float(layer.alpha.detach()), float(layer.beta.detach())
    z = torch.tensor([[0.0, 0.0], [1e-25, 0.0], [3e-20, -4e-20], [0.5, 1.0]])
    x, log_det = layer(z)
    expected = [_radial_log_det_formula(float(v), a, b, 2) for v in z.double().norm(dim=-1)]
    assert expected[0] == pytest.approx(2 * math.log1p(beta / alpha), rel=1e-7)
    torch.testing.assert_close(log_det.double(), torch.tensor(expected, dtype=torch.float64), rtol=1e-6, atol=1e-5)
    # the inverse where float32 can tell the radius back (x near z0 + beta u hides r ~ 1e-20 in its rounding)
    keep = [0, 3]
    torch.testing.assert_close(layer.inverse(x[keep])[1].double(), -log_det[keep].double(), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("lu", [False, True])
def test_linear_works_in_half_precision(dtype: torch.dtype, lu: bool) -> None:
    """slogdet and solve have no float16/bfloat16 kernels: they run in float32 and are cast back, so Linear works
    in half precision like every other layer. Checked against the same layer in float64."""
    g = torch.Generator().manual_seed(1)
    if lu:
        layer = F.Linear(2, seed=0)
        with torch.no_grad():
            for p in layer.parameters():
                p.add_(0.3 * torch.randn(p.shape, generator=g))
    else:
        layer = F.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]])
    half = F.Flow([layer]).to(dtype)
    exact = F.Flow([copy.deepcopy(half.layers[0]).double()])  # the same (rounded) parameters in float64
    z = torch.randn(20, 2, generator=g).to(dtype)
    x, log_det = half(z)
    assert x.dtype == dtype and log_det.dtype == dtype
    x64, log_det64 = exact(z.double())
    tol = {"rtol": 2e-2, "atol": 2e-2}
    torch.testing.assert_close(x.double(), x64, **tol)
    torch.testing.assert_close(log_det.double(), log_det64, **tol)
    z_back, inv_log_det = half.inverse(x)
    assert z_back.dtype == dtype
    torch.testing.assert_close(z_back.double(), exact.inverse(x.double())[0], **tol)
    torch.testing.assert_close(inv_log_det.double(), -log_det64, **tol)
    log_prob = half.log_prob(x)
    assert log_prob.dtype == dtype
    torch.testing.assert_close(log_prob.double(), exact.log_prob(x.double()), **tol)
    assert half.sample(5).dtype == dtype


def test_linear_condition_limit_follows_the_dtype() -> None:
    """cond(W) is judged against eps of the dtype the layer computes in: W = [[1, 1], [1, 1 + 2^-22]] (cond
    1.7e7) loses every digit in float32 (the round trip was off by 0.4) and is refused there, at construction
    and after a conversion or a drift of a learnable W; in float64 it is fine (round trip exact to 1e-8)."""
    w = [[1.0, 1.0], [1.0, 1.0 + 2.0**-22]]
    with pytest.raises(ValueError, match=r"numerically singular in float32: condition number 1.68e\+07 >= 8.39e\+06"):
        F.Linear(2, matrix=w)
    assert F.linear.max_condition(torch.float64) == pytest.approx(1 / 2.0**-52)
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    layer = F.Linear(2, matrix=[[1.0, 0.0], [0.0, 1.0]]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(w, dtype=torch.float64))
    assert layer.is_invertible()
    torch.testing.assert_close(layer.inverse(layer(z)[0])[0], z, rtol=0, atol=1e-8)
    layer.float()  # the same W in float32: not invertible any more, and the message says why
    assert not layer.is_invertible()
    assert "numerically singular in float32" in layer.invertibility_message()
    with pytest.raises(F.NotInvertibleError, match="float32"):
        F.Flow([layer]).log_prob(z.float())
    drift = F.Linear(2, matrix=[[1.0, 0.0], [0.0, 1.0]])
    with torch.no_grad():
        drift.weight.copy_(torch.tensor(w))
    assert not drift.is_invertible() and "condition number 1.68e+07" in drift.invertibility_message()
    # a float32 W inside the limit (cond 4e3): its round trip keeps the bound cond x eps (5e-4), checked in float64
    ok = F.Linear(2, matrix=[[1.0, 1.0], [1.0, 1.001]])
    cond = float(torch.linalg.cond(ok.weight.detach().double()))
    assert 3e3 < cond < F.linear.max_condition(torch.float32) and ok.is_invertible()
    z32 = z.float()
    z_back = ok.inverse(ok(z32)[0])[0].double()
    assert ((z_back - z32.double()).norm(dim=-1) / z32.double().norm(dim=-1)).max() < cond * 2.0**-23
    # a learnt, well-posed W (LU: diag(300, 0.03), cond 1e4) is invertible and trains: a limit of 1e-3 / eps
    # (8.4e3) refused it at every log_prob; the LU check needs no condition number
    lu = F.Linear(2)
    with torch.no_grad():
        lu.log_diag.copy_(torch.tensor([math.log(300.0), math.log(0.03)]))
        lu.lower.zero_()
    assert lu.is_invertible() and torch.isfinite(F.Flow([lu]).log_prob(z32)).all()
    assert F.Linear(2, matrix=[[100.0, 0.0], [0.0, 0.01]]).is_invertible()  # cond 1e4 given directly
