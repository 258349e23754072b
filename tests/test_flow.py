"""Flow: composition, log_prob (integrates to 1), trace, chunking, non-finite reports, errors,
the lecture's numbers, and save/load."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from layer_zoo import make
from stats_support import bin_counts, bin_probs, chi2_z

from flowviz import flows as F


def mixed_flow(seed: int = 3) -> F.Flow:
    """A 2D flow with every layer type (Sigmoid then Logit keeps the support R^2)."""
    names = ["Affine", "Linear", "Planar", "AffineCoupling", "Radial", "LinearLU", "SplineCoupling", "Permute",
             "MAF", "AdditiveCoupling", "MAFSpline", "Reverse", "ActNorm", "SinhArcsinh", "IAF", "Sigmoid",
             "Logit", "Planar"]
    layers = [make(n, 2, seed + i) for i, n in enumerate(names)]
    # keep the density compact enough for a grid integral
    layers.insert(0, F.Affine(2, scale=0.6).double())
    flow = F.Flow(layers).double()
    with torch.no_grad():  # gentler conditioners: a density smooth enough for a 500 x 500 grid integral
        for m in flow.modules():
            if isinstance(m, (F.Coupling, F.MaskedAutoregressive)):
                for p in m.parameters():
                    p.mul_(0.5)
    return flow


def grid(lim: float, n: int) -> tuple[torch.Tensor, float]:
    t = torch.linspace(-lim, lim, n, dtype=torch.float64)
    xx, yy = torch.meshgrid(t, t, indexing="xy")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], -1), float(t[1] - t[0]) ** 2


def test_log_prob_integrates_to_one_for_a_flow_mixing_every_layer_type() -> None:
    flow = mixed_flow()
    with torch.no_grad():
        x = flow.sample(20_000, torch.Generator().manual_seed(0))
        lim = float(x.abs().quantile(0.9995)) * 1.6
        pts, cell = grid(lim, 500)
        total = float(flow.log_prob(pts).exp().sum() * cell)
    assert abs(total - 1.0) < 1e-3, total


def test_log_prob_is_base_plus_inverse_log_dets() -> None:
    flow = mixed_flow(11)
    z = flow.sample_base(500, torch.Generator().manual_seed(1))
    tr = flow.trace(z)
    x = tr.states[-1]
    # change of variables: log p(x) = log pi(z) - sum forward log-dets
    expected = flow.base.log_prob(z) - tr.log_dets.sum(0)
    torch.testing.assert_close(flow.log_prob(x), expected, atol=1e-6, rtol=1e-6)
    inv = flow.trace_inverse(x)
    torch.testing.assert_close(inv.states[-1], z, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(inv.log_dets.flip(0), -tr.log_dets, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(flow.log_prob(x), flow.base.log_prob(inv.states[-1]) + inv.log_det)


def test_samples_follow_log_prob_monte_carlo() -> None:
    """flow.sample draws from the density flow.log_prob describes: 200k samples binned on a 24 x 24 grid
    against each bin's mass under exp(log_prob) (Gauss-Legendre per bin), Pearson's chi-square as a
    z-score; and the same check rejects a wrong sampler, G(0.9 z) (the test has the power to fail)."""
    flow = mixed_flow(11)
    n, nb = 200_000, 24
    with torch.no_grad():
        x = flow.sample(n, torch.Generator().manual_seed(5))
        lo, hi = x.quantile(0.002, 0), x.quantile(0.998, 0)
        bounds = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        expected = n * bin_probs(lambda p: flow.log_prob(p.reshape(-1, 2)).reshape(p.shape[:-1]), bounds, nb)
        z = chi2_z(bin_counts(x, bounds, nb), expected)
        wrong = flow.forward(0.9 * flow.sample_base(n, torch.Generator().manual_seed(6)))[0]
        z_wrong = chi2_z(bin_counts(wrong, bounds, nb), expected)
    print(f"chi-square z: samples {z:.2f}, G(0.9 z) {z_wrong:.1f}")
    assert abs(float(expected.sum()) - n) < 1e-3 * n
    assert z < 5, f"samples disagree with log_prob: chi-square z = {z:.1f}"
    assert z_wrong > 20, f"a sampler drawing G(0.9 z) was not told apart: z = {z_wrong:.1f}"


def test_trace_states_are_the_layer_outputs_in_order() -> None:
    flow = mixed_flow(5)
    z = torch.randn(7, 2, dtype=torch.float64)
    tr = flow.trace(z)
    assert tr.states.shape == (len(flow) + 1, 7, 2) and tr.log_dets.shape == (len(flow), 7)
    h = z
    for k, layer in enumerate(flow.layers):
        h, ld = layer(h)
        torch.testing.assert_close(tr.states[k + 1], h)
        torch.testing.assert_close(tr.log_dets[k], ld)
    assert tr.first_nonfinite is None and tr.report() == ""


def test_chunked_evaluation_equals_whole_batch() -> None:
    flow = F.realnvp(2, layers=4, hidden=16).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(1000, 2, dtype=torch.float64)
    whole = flow.log_prob(x), flow.trace(x).states
    flow.chunk_size = 37
    torch.testing.assert_close(flow.log_prob(x), whole[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(flow.trace(x).states, whole[1], rtol=0, atol=1e-12)
    torch.testing.assert_close(flow.forward(x)[0], whole[1][-1], rtol=0, atol=1e-12)


def _sorted_data(n: int = 30) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=g) * torch.tensor([3.0, 0.5]) + torch.tensor([2.0, -1.0])
    x[: n // 3] += 5.0  # e.g. data sorted by some key: the first chunk is not like the rest
    return x


def test_actnorm_initialises_from_the_whole_batch_when_the_flow_chunks_it() -> None:
    """Chunking stays invisible for ActNorm's data-dependent initialisation: the first training-mode pass
    that initialises it runs on the whole batch, whatever chunk_size says (log_prob, trace_inverse, and
    forward through Inverse(ActNorm), where ActNorm's inverse is the forward pass)."""
    x = _sorted_data()
    for method in ("log_prob", "trace_inverse", "forward"):
        flows = []
        for chunk_size in (10_000, 10, 7):
            act = F.ActNorm(2)
            layers = [F.Affine(2, scale=1.5, shift=0.5), act if method != "forward" else F.Inverse(act)]
            flows.append((F.Flow(layers, chunk_size=chunk_size), act))
        results = []
        for flow, act in flows:
            out = getattr(flow, method)(x)
            results.append(out.states if method == "trace_inverse" else out[0] if method == "forward" else out)
            h = x * 1.5 + 0.5 if method == "forward" else x  # the ActNorm's input (the inverse meets it first)
            torch.testing.assert_close(act.shift.detach(), h.mean(0))  # the whole batch, not its first chunk
            torch.testing.assert_close(act.log_scale.detach(), torch.log(h.std(0)))
        for other in results[1:]:
            torch.testing.assert_close(other, results[0], rtol=0, atol=0)
    # once initialised, the flow chunks again
    flow = flows[1][0]
    assert not flow.needs_whole_batch() and len(flow._pieces(30)) == 3
    assert F.Flow([F.ActNorm(2)], chunk_size=10).eval()._pieces(30) == F.Flow([F.Affine(2)], chunk_size=10)._chunks(30)


@pytest.mark.parametrize("method", ["log_prob", "inverse", "trace_inverse", "forward"])
def test_actnorm_in_training_mode_gives_an_empty_batch_an_empty_result(method: str) -> None:
    """N = 0: nothing to initialise from, nothing to compute (log_prob and inverse raised "ActNorm initialisation
    needs at least 2 samples" while forward and trace_inverse gave empty results). The next real batch initialises."""
    flow = F.Flow([F.ActNorm(2)])
    out = getattr(flow, method)(torch.zeros(0, 2))
    if method == "trace_inverse":
        assert out.states.shape == (2, 0, 2) and out.log_dets.shape == (1, 0)
    elif method == "log_prob":
        assert out.shape == (0,)
    else:
        assert out[0].shape == (0, 2) and out[1].shape == (0,)
    act = flow.layers[0]
    assert not bool(act.initialized) and flow.needs_whole_batch()
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0)) * 3.0 + 1.0
    z = flow.inverse(x)[0]
    assert bool(act.initialized)
    torch.testing.assert_close(z.mean(0), torch.zeros(2), atol=1e-5, rtol=0)


def test_chunk_size_must_be_a_positive_integer() -> None:
    with pytest.raises(ValueError, match="Flow: chunk_size must be an integer >= 1, got 0"):
        F.Flow([F.Affine(2)], chunk_size=0)
    flow = F.Flow([F.Affine(2)], chunk_size=np.int64(5))
    assert flow.chunk_size == 5 and type(flow.chunk_size) is int
    with pytest.raises(ValueError, match="chunk_size must be an integer >= 1, got -3"):
        flow.chunk_size = -3
    with pytest.raises(TypeError, match=r"chunk_size must be an integer >= 1, got 2.5 \(float\)"):
        flow.chunk_size = 2.5  # type: ignore[assignment]
    assert flow.chunk_size == 5


def test_row_chunks_are_equal_pieces_of_at_most_chunk_size_covering_every_row() -> None:
    flow = F.realnvp(2, layers=2, hidden=8)
    assert flow.chunk_size == 16384
    for n, pieces in [(1, 1), (10_000, 1), (16_384, 1), (16_385, 2), (32_768, 2), (32_769, 3), (100_000, 7),
                      (1_000_000, 62)]:
        chunks = flow._chunks(n)
        sizes = [s.stop - s.start for s in chunks]
        assert len(chunks) == pieces, (n, sizes)
        assert chunks[0].start == 0 and chunks[-1].stop == n
        assert all(a.stop == b.start for a, b in zip(chunks[:-1], chunks[1:], strict=True))
        # equal pieces (the last one a few rows shorter at most), none over chunk_size, none under half of it
        assert len(set(sizes[:-1])) <= 1 and 0 <= sizes[0] - sizes[-1] < pieces
        assert max(sizes) <= 16384 and (pieces == 1 or min(sizes) > 16384 // 2 - pieces)
    assert flow._chunks(0) == []


def test_trace_reports_the_layer_that_first_produced_non_finite_values() -> None:
    # Logit is defined on (0, 1): points outside become NaN at layer 2.
    flow = F.Flow([F.Affine(2, scale=0.2, shift=0.5), F.Logit(2), F.Affine(2, scale=2.0)])
    z = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.1, -4.0], [0.2, 0.3]])
    tr = flow.trace(z)
    assert tr.first_nonfinite == (2, 2)
    assert tr.nonfinite_counts.tolist() == [0, 2, 0]
    assert "layer 2: 2 point(s)" in tr.report()
    assert tr.finite[:, 0].all() and not tr.finite[2:, 1].any()
    # from the data side the layer keeps its name: Sigmoid is layer 1 of 3 and the last step of the inverse
    flow = F.Flow([F.Sigmoid(2), F.Affine(2, scale=2.0), F.Affine(2, scale=0.5)])
    x = torch.tensor([[0.2, 0.3], [0.4, 0.9], [5.0, 0.5]])  # 5.0 lies outside Sigmoid's range (0, 1)
    inv = flow.trace_inverse(x)
    assert inv.nonfinite_counts.tolist() == [0, 0, 1]
    assert inv.first_nonfinite == (1, 1)
    assert "layer 1 (inverse): 1 point(s)" in inv.report()


def test_lecture_uniform_z_and_x_equals_2z_plus_1() -> None:
    flow = F.Flow([F.Affine(1, scale=2.0, shift=1.0)], base=F.Uniform(1))
    assert flow.log_prob(torch.tensor([[2.0]])).exp().item() == pytest.approx(0.5, abs=1e-7)
    assert flow.base.log_prob(torch.tensor([[0.5]])).exp().item() == pytest.approx(1.0)
    # outside the image [1, 3] the density is 0
    assert flow.log_prob(torch.tensor([[3.5]])).item() == -math.inf
    # a decreasing map gives the same density
    flip = F.Flow([F.Affine(1, scale=-2.0, shift=3.0)], base=F.Uniform(1))
    assert flip.log_prob(torch.tensor([[2.0]])).exp().item() == pytest.approx(0.5, abs=1e-7)
    x = flow.sample(50_000, torch.Generator().manual_seed(0)).detach()
    assert 1.0 <= float(x.min()) and float(x.max()) <= 3.0


def test_lecture_jacobian_of_f_and_its_inverse() -> None:
    f = F.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]).double()
    z = torch.tensor([[0.3, -1.2], [2.0, 5.0]], dtype=torch.float64)
    J = F.jacobian(f, z)
    expected = torch.tensor([[1.0, 1.0], [2.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(J, expected.expand(2, 2, 2))
    assert torch.linalg.det(J[0]).item() == pytest.approx(-2.0)
    x, log_det = f(z)
    torch.testing.assert_close(x, torch.stack([z[:, 0] + z[:, 1], 2 * z[:, 0]], -1))
    assert log_det.tolist() == pytest.approx([math.log(2.0)] * 2)
    Ji = F.jacobian(f, x, direction="inverse")
    torch.testing.assert_close(Ji[0], torch.tensor([[0.0, 0.5], [1.0, -0.5]], dtype=torch.float64))
    assert torch.linalg.det(Ji[0]).item() == pytest.approx(-0.5)
    torch.testing.assert_close(J[0] @ Ji[0], torch.eye(2, dtype=torch.float64))
    assert torch.linalg.det(J[0]).item() == pytest.approx(1 / torch.linalg.det(Ji[0]).item())


@pytest.mark.parametrize("build", [lambda: F.realnvp(2), lambda: F.maf(2), lambda: F.nsf(2), lambda: F.planar_flow(2),
                                   lambda: F.realnvp(5, layers=3), lambda: F.maf(3, layers=2)])
def test_builders_make_flows_with_a_density(build) -> None:  # type: ignore[no-untyped-def]
    flow = build()
    x = flow.sample(64, torch.Generator().manual_seed(0))
    assert x.shape == (64, flow.dim) and torch.isfinite(flow.log_prob(x)).all()


def test_architecture_of_builders() -> None:
    assert len(F.realnvp(2, layers=8, hidden=64)) == 8
    maf = F.maf(2, layers=5, hidden=64)
    assert sum(isinstance(layer, F.MaskedAutoregressive) for layer in maf.layers) == 5
    nsf = F.nsf(2, layers=5, hidden=64, bins=8)
    assert all(layer.bins == 8 and layer.transform == "spline" and layer.direction == "density"
               for layer in nsf.layers if isinstance(layer, F.MaskedAutoregressive))
    assert all(layer.direction == "density" and layer.scale_limit == 6.9 for layer in maf.layers
               if isinstance(layer, F.MaskedAutoregressive))
    for build in (F.nsf, F.maf):
        assert all(layer.direction == "sampling" for layer in build(2, direction="sampling").layers
                   if isinstance(layer, F.MaskedAutoregressive))
        with pytest.raises(ValueError, match="direction"):
            build(2, direction="forward")


@pytest.mark.parametrize("transform", ["affine", "spline"])
def test_the_two_directions_are_inverse_families(transform: str) -> None:
    """With dim 1 (no conditioning input) and the same weights, a density-direction layer is exactly the inverse
    of a sampling-direction one: there x = tau(z), here z = tau(x). Checked against tau written out."""
    from flowviz.flows.coupling import soft_clamp
    from flowviz.flows.splines import rational_quadratic_spline

    g = torch.Generator().manual_seed(3)
    kw = {"hidden": 8, "transform": transform, "bins": 6, "bound": 3.0, "scale_limit": 2.0}
    a = F.MaskedAutoregressive(1, **kw).double()
    with torch.no_grad():
        for p in a.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=g, dtype=p.dtype))
    b = F.MaskedAutoregressive(1, direction="density", **kw).double()
    b.load_state_dict(a.state_dict())
    z = 2 * torch.randn(257, 1, generator=g, dtype=torch.float64)
    theta = a.made(torch.zeros(1, 1, dtype=torch.float64))[0, 0]
    if transform == "affine":
        s = soft_clamp(theta[1], 2.0)
        tau_z, ld_tau = z[:, 0] * torch.exp(s) + theta[0], s.expand(257)
    else:
        tau_z, ld_tau = rational_quadratic_spline(z[:, 0], theta.expand(257, -1), 3.0)
    torch.testing.assert_close(a(z)[0][:, 0], tau_z)
    torch.testing.assert_close(a(z)[1], ld_tau)
    torch.testing.assert_close(b.inverse(z)[0][:, 0], tau_z)  # the density direction applies tau itself
    torch.testing.assert_close(b.inverse(z)[1], ld_tau)
    x, ld = b(z)
    torch.testing.assert_close(a(x)[0], z)  # so b's forward is a's inverse
    torch.testing.assert_close(ld, -a(x)[1])
    assert F.realnvp(2).layers[0].conditioner[0].out_features == 64


# -- bad input ---------------------------------------------------------------------------------
def test_wrong_dimension_is_a_clear_error() -> None:
    flow = F.realnvp(2, layers=2)
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(5, 3\)"):
        flow.log_prob(torch.randn(5, 3))
    with pytest.raises(ValueError, match=r"shape \(N, 2\), got \(4,\)"):
        flow.trace(torch.randn(4))
    with pytest.raises(ValueError, match="same dim"):
        F.Flow([F.Affine(2), F.Affine(3)])
    with pytest.raises(ValueError, match="base has dim 3"):
        F.Flow([F.Affine(2)], base=F.StandardNormal(3))
    with pytest.raises(ValueError, match="dim >= 2"):
        F.AffineCoupling(1)
    # a torch layer or distribution in place of flowviz's (was: AttributeError 'Linear' object has no 'dim')
    with pytest.raises(TypeError, match=r"layer 2 is a torch.nn.modules.linear.Linear, not a flowviz.flows.Bijection"):
        F.Flow([F.Affine(2), torch.nn.Linear(2, 2)])
    with pytest.raises(TypeError, match=r"base must be a flowviz.flows.Distribution .* got Normal"):
        F.Flow([F.Affine(2)], base=torch.distributions.Normal(0.0, 1.0))


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda: F.Affine(0), ValueError, r"Affine: dim must be an integer >= 1, got 0"),
    (lambda: F.Affine(2.0), TypeError, r"dim must be an integer .* \(use int\(2.0\)\)"),
    (lambda: F.Planar(-1), ValueError, r"Planar: dim must be an integer >= 1, got -1"),
    (lambda: F.realnvp(2, hidden=0), ValueError, r"AffineCoupling: hidden must be an integer >= 1, got 0"),
    (lambda: F.realnvp(2, depth=-1), ValueError, r"depth must be an integer >= 0, got -1"),
    (lambda: F.realnvp(2, layers=2.5), TypeError, r"realnvp: layers must be an integer >= 1, got 2.5"),
    (lambda: F.maf(2, layers=0), ValueError, r"maf: layers must be an integer >= 1, got 0"),
    (lambda: F.maf(2, hidden=True), TypeError, r"hidden must be an integer >= 1, got True"),
    (lambda: F.nsf(2, bins=0), ValueError, r"bins must be an integer >= 1, got 0"),
    (lambda: F.nsf(2, bound=0.0), ValueError, r"bound must be a finite number > 0, got 0.0"),
    (lambda: F.nsf(2, bound=float("nan")), ValueError, r"bound must be a finite number > 0, got nan"),
    (lambda: F.SplineCoupling(2, bound=-1.0), ValueError, r"SplineCoupling: bound must be a finite number > 0"),
    (lambda: F.planar_flow(2, layers=-3), ValueError, r"planar_flow: layers must be an integer >= 1, got -3"),
    # non-finite values are refused where they are given, naming the argument (they built layers that gave NaN)
    (lambda: F.Planar(2, u=[float("nan"), 0.0]), ValueError, r"Planar: u must be finite, got \[nan, 0.0\]"),
    (lambda: F.Planar(2, w=[float("inf"), 0.0]), ValueError, r"Planar: w must be finite, got \[inf, 0.0\]"),
    (lambda: F.Planar(2, b=float("nan")), ValueError, r"Planar: b must be a finite number, got nan"),
    (lambda: F.Radial(2, centre=[float("nan"), 0.0]), ValueError, r"Radial: centre must be finite, got \[nan, 0.0\]"),
    (lambda: F.Radial(2, alpha=float("inf")), ValueError, r"Radial: alpha must be a finite number, got inf"),
    (lambda: F.Radial(2, alpha=float("nan")), ValueError, r"Radial: alpha must be a finite number, got nan"),
    (lambda: F.Radial(2, beta=float("inf")), ValueError, r"Radial: beta must be a finite number, got inf"),
    (lambda: F.Radial(2, beta=-float("inf"), constrained=False), ValueError, r"beta must be a finite number, got -inf"),
    # alpha that float32 cannot hold as a normal number (1e-46 was stored as 0.0), or beta / alpha overflowing
    (lambda: F.Radial(2, alpha=1e-46), ValueError, r"alpha = 1e-46 is too small for float32: it would be stored "
                                                   r"as 0, below the smallest normal float32 number 1.18e-38"),
    (lambda: F.Radial(2, alpha=1e-40), ValueError, r"alpha = 1e-40 is too small for float32"),
    (lambda: F.Radial(2, alpha=1e-30, beta=1e10), ValueError, r"\|beta\| / alpha = 1e\+40 does not fit in float32"),
    (lambda: F.Uniform(1, 0.0, float("inf")), ValueError, r"Uniform: high must be a finite number, got inf"),
    (lambda: F.Uniform(2, float("-inf"), 0.0), ValueError, r"Uniform: low must be a finite number, got -inf"),
    (lambda: F.Uniform(1, -3e38, 3e38), ValueError, r"Uniform: the box \[-3e\+38, 3e\+38\] has width inf in float32"),
    (lambda: F.AffineCoupling(2, scale_limit=0.0), ValueError,
     r"AffineCoupling: scale_limit must be a finite number > 0, got 0.0"),
    (lambda: F.AffineCoupling(2, scale_limit=float("inf")), ValueError, r"scale_limit must be a finite number > 0"),
    (lambda: F.realnvp(2, layers=1).layers[0].__class__(2, scale_limit=-1.0), ValueError, r"got -1.0"),
    (lambda: F.MaskedAutoregressive(2, scale_limit=float("inf")), ValueError,
     r"MaskedAutoregressive: scale_limit must be a finite number > 0, got inf"),
    (lambda: F.maf(2, layers=1, scale_limit=float("nan")), ValueError, r"scale_limit must be a finite number > 0"),
    (lambda: F.MaskedAutoregressive(2, scale_limit=0.0), ValueError, r"scale_limit must be a finite number > 0"),
    # a permutation of floats was truncated silently ([1.7, 0.2, 2.9] -> [1, 0, 2])
    (lambda: F.Permute(3, permutation=[1.7, 0.2, 2.9]), TypeError,
     r"Permute: permutation must hold integers \(a rearrangement of 0..2\), got \[1.7, 0.2, 2.9\] \(float32\)"),
    (lambda: F.Permute(2, permutation=torch.tensor([1.0, 0.0])), TypeError, r"permutation must hold integers"),
])
def test_bad_constructor_arguments_are_clear_errors(build, error, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=message):
        build()


def test_radial_set_parameters_refuses_what_the_constructor_refuses() -> None:
    layer = F.Radial(2, alpha=1.0, beta=0.5)
    for kwargs, message in [({"alpha": float("inf")}, "alpha must be a finite number"),
                            ({"beta": float("nan")}, "beta must be a finite number"),
                            ({"alpha": 1e-46}, "too small for float32")]:
        with pytest.raises(ValueError, match=message):
            layer.set_parameters(**kwargs)
    assert float(layer.alpha.detach()) == pytest.approx(1.0) and float(layer.beta.detach()) == pytest.approx(0.5)


def test_permute_takes_integers_of_any_integer_type() -> None:
    z = torch.arange(6.0).reshape(2, 3)
    for perm in ([2, 0, 1], (2, 0, 1), np.array([2, 0, 1]), torch.tensor([2, 0, 1], dtype=torch.int32)):
        layer = F.Permute(3, permutation=perm)
        assert layer.permutation.dtype == torch.long
        assert torch.equal(layer(z)[0], z[:, [2, 0, 1]]) and torch.equal(layer.inverse(layer(z)[0])[0], z)


def test_sample_takes_a_count_or_a_one_entry_shape() -> None:
    flow = F.realnvp(2, layers=2)
    for n in (7, np.int64(7), (7,), [7], torch.Size([7]), torch.tensor(7)):
        assert flow.sample(n).shape == (7, 2), n
    assert flow.sample(0).shape == (0, 2)
    assert F.Flow([F.Affine(1)], base=F.Uniform(1)).sample((3,)).shape == (3, 1)
    with pytest.raises(TypeError, match=r"integer >= 0, got 10000.0 \(float\) \(use int"):
        flow.sample(1e4)
    with pytest.raises(ValueError, match=r"integer >= 0, got -1"):
        flow.sample(-1)
    with pytest.raises(ValueError, match=r"got shape \(3, 2\)"):
        flow.sample((3, 2))


def test_flow_methods_convert_tensors_to_the_flows_dtype_and_device() -> None:
    torch.manual_seed(0)
    flow = F.realnvp(2, layers=2, hidden=8)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x64 = torch.as_tensor(np.random.default_rng(0).normal(size=(5, 2)))  # float64 data, e.g. from numpy
    x32 = x64.float()
    expected = flow.log_prob(x32)
    got = flow.log_prob(x64)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert torch.equal(flow.trace(x64).states, flow.trace(x32).states)
    assert torch.equal(flow.trace_inverse(x64).states, flow.trace_inverse(x32).states)
    assert torch.equal(flow.inverse(x64)[0], flow.inverse(x32)[0])
    assert torch.equal(flow.forward(x64)[0], flow.forward(x32)[0])
    ints = torch.tensor([[0, 1], [2, -1]])
    torch.testing.assert_close(flow.log_prob(ints), flow.log_prob(ints.float()), rtol=0, atol=0)
    # a float64 flow computes in float64 from float32 input; gradients reach a tensor that needed no conversion
    flow64 = F.realnvp(2, layers=2, hidden=8).double()
    assert flow64.log_prob(x32).dtype == torch.float64
    xg = x64.clone().requires_grad_(True)
    flow64.log_prob(xg).sum().backward()
    assert xg.grad is not None and xg.grad.shape == (5, 2)
    # flows/ speaks torch: an array or a list is a TypeError saying how to make a tensor of it
    with pytest.raises(TypeError, match=r"torch.Tensor of shape \(N, 2\), got ndarray \(torch.as_tensor"):
        flow.log_prob(x64.numpy())
    with pytest.raises(TypeError, match=r"got list \(torch.as_tensor"):
        flow.log_prob([[0.0, 1.0]])
    with pytest.raises(TypeError, match=r"got str$"):
        flow.log_prob("moons")
    with pytest.raises(ValueError, match=r"got \(2,\) \(one point: pass x.reshape\(1, 2\)\)"):
        flow.log_prob(torch.zeros(2))
    with pytest.raises(ValueError, match="real numbers, got dtype torch.bool"):
        flow.log_prob(torch.zeros(3, 2, dtype=torch.bool))


def test_nan_input_is_a_clear_error() -> None:
    flow = F.realnvp(2, layers=2)
    x = torch.randn(6, 2)
    x[4, 1] = float("nan")
    with pytest.raises(ValueError, match=r"non-finite .* first at row 4"):
        flow.log_prob(x)
    with pytest.raises(ValueError, match="non-finite"):
        flow.trace(x)
    for method in (flow.forward, flow.inverse, flow.trace_inverse):
        with pytest.raises(ValueError, match=r"non-finite .* first at row 4"):
            method(x)


def test_singular_matrix_and_zero_scale_are_refused() -> None:
    with pytest.raises(ValueError, match=r"det W = 0: W has rank 1 < 2, so it collapses the plane onto a line"):
        F.Linear(2, matrix=[[1.0, 2.0], [2.0, 4.0]])
    # det 1 but condition number 1e12: refused as numerically singular, and the message says so (not "det 0")
    with pytest.raises(ValueError, match=r"numerically singular in float32: condition number 1e\+12 >= 8.39e\+06, "
                                         r"the limit for float32 \(det W = 1\)"):
        F.Linear(2, matrix=[[1e6, 0.0], [0.0, 1e-6]])
    with pytest.raises(ValueError, match="non-zero"):
        F.Affine(2, scale=[1.0, 0.0])
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        F.Linear(2, matrix=[[1.0, 2.0, 3.0]])


def test_non_invertible_settings_are_reported_not_nan() -> None:
    planar = F.Planar(2, u=[-2.0, 0.0], w=[1.0, 0.0], constrained=False)
    assert not planar.is_invertible() and "-2" in planar.invertibility_message()
    flow = F.Flow([planar])
    with pytest.raises(F.NotInvertibleError, match="layer 1 .*Planar"):
        flow.log_prob(torch.randn(3, 2))
    # the forward pass still works (the widget shows the fold)
    assert torch.isfinite(flow.trace(torch.randn(3, 2)).states).all()
    with pytest.raises(ValueError, match="beta must be > -alpha"):
        F.Radial(2, alpha=1.0, beta=-2.0)
    radial = F.Radial(2, alpha=1.0, beta=-2.0, constrained=False)
    assert not radial.is_invertible()
    lin = F.Linear(2, matrix=[[1.0, 0.0], [0.0, 1.0]])
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0], [2.0, 4.0]]))
    assert not lin.is_invertible() and "det W = 0" in lin.invertibility_message()


def _linear_failure(layer: F.Linear) -> str:
    """The error a Flow of ``layer`` raises on log_prob (it must be a NotInvertibleError, not a torch error)."""
    with pytest.raises(F.NotInvertibleError) as info:
        F.Flow([layer]).log_prob(torch.randn(4, layer.dim))
    message = str(info.value)
    assert message == f"layer 1 (Linear): {layer.invertibility_message()}" and not layer.is_invertible()
    return message


def test_linear_says_what_is_wrong_with_its_matrix() -> None:
    """Not always "det W = 0: the matrix collapses the plane onto a line": a diverged (NaN) W raised a raw
    torch._C._LinAlgError from the SVD; an ill-conditioned W (det 1e-13) is not singular; a 3D rank-1 W collapses
    space onto a line; exp(log_diag) underflowing to 0 made an LU W exactly singular while is_invertible() said
    True (log_prob then raised a raw "solver failed" error)."""
    lin = F.Linear(3, matrix=torch.eye(3))
    with torch.no_grad():
        lin.weight.copy_(torch.diag(torch.tensor([1.0, 1.0, 1e-13])))
    message = _linear_failure(lin)
    assert "numerically singular in float32: condition number 1e+13" in message and "det W = 1e-13" in message
    with torch.no_grad():
        lin.weight.copy_(torch.diag(torch.tensor([1.0, 0.0, 0.0])))
    assert "det W = 0: W has rank 1 < 3, so it collapses space onto a line" in _linear_failure(lin)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]]))
    assert "W has rank 2 < 3, so it collapses space onto a plane" in _linear_failure(lin)
    with torch.no_grad():
        lin.weight[0, 0] = float("nan")
    assert "W has non-finite entries (NaN or inf)" in _linear_failure(lin)
    lu = F.Linear(2, seed=0)
    with torch.no_grad():
        lu.log_diag.fill_(float("inf"))
    assert "non-finite parameters (NaN or inf): log_diag" in _linear_failure(lu)
    with torch.no_grad():
        lu.log_diag.copy_(torch.tensor([-120.0, 0.0]))
    assert torch.linalg.matrix_rank(lu.matrix.detach().double()) == 1  # exp(-120) is 0 in float32
    assert ("det W = 0 in float32: U's diagonal entry exp(log_diag[0]) = exp(-120) underflows to 0, so W collapses "
            "the plane onto a line") in _linear_failure(lu)
    with pytest.raises(F.NotInvertibleError, match="underflows to 0"):  # the layer alone: not a raw solver error
        lu.inverse(torch.randn(3, 2))
    with torch.no_grad():
        lu.log_diag.copy_(torch.tensor([100.0, 0.0]))
    assert "exp(log_diag[0]) = exp(100) overflows float32" in _linear_failure(lu)
    with torch.no_grad():
        lu.log_diag.copy_(torch.tensor([-1.0, 0.5]))
    assert lu.is_invertible() and lu.invertibility_message() == ""
    assert torch.isfinite(F.Flow([lu.double()]).log_prob(torch.randn(4, 2, dtype=torch.float64))).all()


def test_radial_says_what_is_wrong_with_its_parameters() -> None:
    """A diverged (NaN) parameter is named, not reported as "beta = nan < -alpha = nan"; a trained alpha_raw whose
    softplus underflows to 0 (h = 1/r tears the space at the centre) is not invertible."""
    layer = F.Radial(2)
    with torch.no_grad():
        layer.centre.fill_(float("nan"))
    assert not layer.is_invertible() and layer.invertibility_message() == "non-finite parameters (NaN or inf): centre"
    layer = F.Radial(2)
    with torch.no_grad():
        layer.alpha_raw.fill_(-200.0)
    assert float(layer.alpha.detach()) == 0.0
    with pytest.raises(F.NotInvertibleError, match=r"alpha = softplus\(-200\) underflows to 0 in float32"):
        F.Flow([layer]).log_prob(torch.randn(3, 2))


def test_planar_constraint_keeps_it_invertible_for_any_raw_u() -> None:
    layer = F.Planar(2, u=[-5.0, 3.0], w=[1.0, 0.5]).double()
    assert float((layer.w @ layer.u_hat()).detach()) >= -1
    z = torch.randn(50, 2, dtype=torch.float64)
    torch.testing.assert_close(layer.inverse(layer(z)[0])[0], z)


@pytest.mark.parametrize("dtype, scale", [(torch.float32, 6.5), (torch.float64, 11.0)])
def test_planar_constraint_holds_where_softplus_underflows(dtype: torch.dtype, scale: float) -> None:
    """A strongly negative raw w . u: softplus underflows and w . u_hat lands a few ulps below -1. The
    constraint is analytic, so the layer is invertible and a Flow evaluates its density."""
    w = torch.tensor([0.7, -1.3, 0.4])
    layer = F.Planar(3, u=-scale * w, w=w).to(dtype)
    assert float((layer.w @ layer.u_hat()).detach()) < -1  # the rounding this test is about
    assert layer.is_invertible() and layer.invertibility_message() == ""
    z = torch.randn(200, 3, generator=torch.Generator().manual_seed(0), dtype=dtype)
    # away from the plane w . z + b = 0, where w . u_hat = -1 makes the map singular (so its inverse ill-conditioned)
    z = z[(z @ layer.w.detach() + layer.b.detach()).abs() > 1][:20]
    x, log_det = layer(z)
    log_prob = F.Flow([layer]).log_prob(x)
    assert torch.isfinite(log_prob).all()
    torch.testing.assert_close(log_prob, F.StandardNormal(3).log_prob(z) - log_det)


def test_planar_fold_message_prints_enough_digits() -> None:
    """A fold a hair below -1 (unconstrained) is reported with the digits that show it, not as "-1 < -1"."""
    layer = F.Planar(2, u=[-1.0 - 2.0**-40, 0.0], w=[1.0, 0.0], constrained=False).double()
    with torch.no_grad():
        layer.u.copy_(torch.tensor([-1.0 - 2.0**-40, 0.0], dtype=torch.float64))  # exact in float64
    assert not layer.is_invertible()
    message = layer.invertibility_message()
    assert "-1 < -1" not in message
    assert float(message.split("=")[1].split("<")[0]) < -1, message
    assert "w . u = -2.5 < -1" in F.Planar(2, u=[-2.5, 0.0], w=[1.0, 0.0], constrained=False).invertibility_message()


# -- save / load ---------------------------------------------------------------------------------
@pytest.mark.parametrize("build", [lambda: mixed_flow(2), lambda: F.nsf(2, layers=2), lambda: F.realnvp(3, layers=2),
                                   lambda: F.Flow([F.Affine(1, scale=2.0, shift=1.0)], base=F.Uniform(1))])
def test_save_load_round_trip_is_exact(tmp_path, build) -> None:  # type: ignore[no-untyped-def]
    flow = build()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.05 * torch.randn_like(p))
    F.save(flow, tmp_path / "flow.pt", note="test")
    back = F.load(tmp_path / "flow.pt")
    assert type(back) is type(flow) and back.config() == flow.config()
    for (k1, v1), (k2, v2) in zip(flow.state_dict().items(), back.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(v1, v2), k1
    x = flow.sample(50, torch.Generator().manual_seed(0))
    assert torch.equal(flow.log_prob(x), back.log_prob(x))


@pytest.mark.parametrize("build", [
    lambda: F.realnvp(np.int64(2), layers=2, hidden=np.int64(8), depth=np.int32(1)),
    lambda: F.maf(2, layers=np.int64(2), hidden=np.int64(8)),
    lambda: F.nsf(2, layers=1, hidden=8, bins=np.int64(4), bound=np.float32(4.0)),
    lambda: F.Flow([F.SplineCoupling(2, hidden=8, bound=np.float32(4.0)), F.Planar(2, b=np.float32(0.25)),
                    F.Radial(2, alpha=np.float64(0.5), beta=np.float32(0.25))], chunk_size=np.int64(100)),
])
def test_numpy_scalar_arguments_build_evaluate_save_and_load(tmp_path, build) -> None:  # type: ignore[no-untyped-def]
    """numpy integers and floats pass the argument checks; the layers and the saved configuration get the
    Python numbers (a numpy bound broke the spline, a numpy count broke save())."""
    flow = build()
    for m in flow.modules():
        for name in ("bins", "hidden", "dim"):
            if name in vars(m):
                assert type(vars(m)[name]) is int, (type(m).__name__, name)
        if isinstance(m, (F.SplineCoupling, F.MaskedAutoregressive)):
            assert type(m.bound) is float
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    log_prob = flow.log_prob(x)
    assert torch.isfinite(log_prob).all()
    F.save(flow, tmp_path / "flow.pt")
    back = F.load(tmp_path / "flow.pt")
    assert back.config() == flow.config()
    assert torch.equal(back.log_prob(x), log_prob)

    def plain(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                plain(v)
        elif isinstance(value, list):
            for v in value:
                plain(v)
        else:
            assert value is None or type(value) in (bool, int, float, str), (value, type(value))

    plain(flow.config())


def test_load_refuses_other_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.save({"a": 1}, tmp_path / "x.pt")
    with pytest.raises(ValueError, match="not a flowviz flow file"):
        F.load(tmp_path / "x.pt")


def test_device_helper_and_flow_device() -> None:
    dev = F.default_device()
    assert dev.type in ("cpu", "cuda", "mps")
    flow = F.realnvp(2, layers=2).to(dev)
    assert flow.device.type == dev.type
    assert flow.sample(10).device.type == dev.type


def _spline_reference(x: float, p: np.ndarray, bound: float) -> tuple[float, float]:
    """The rational-quadratic spline of Durkan et al. (2019), eq. 4 and its derivative, for one number,
    written out with numpy from the knots: an independent check of flows.splines."""
    from flowviz.flows.splines import MIN_BIN, MIN_DERIVATIVE

    k = (len(p) + 1) // 3
    if not -bound < x < bound:
        return x, 0.0

    def knots(raw: np.ndarray) -> np.ndarray:
        e = np.exp(raw - raw.max())
        w = MIN_BIN + (1 - MIN_BIN * k) * e / e.sum()
        return np.concatenate([[-bound], -bound + 2 * bound * np.cumsum(w)[:-1], [bound]])

    xs, ys = knots(p[:k]), knots(p[k:2 * k])
    shift = np.log(np.expm1(1 - MIN_DERIVATIVE))
    d = np.concatenate([[1.0], MIN_DERIVATIVE + np.log1p(np.exp(p[2 * k:] + shift)), [1.0]])
    b = int(np.searchsorted(xs, x, side="right")) - 1
    w, h = xs[b + 1] - xs[b], ys[b + 1] - ys[b]
    s, t = h / w, (x - xs[b]) / w
    den = s + (d[b + 1] + d[b] - 2 * s) * t * (1 - t)
    y = ys[b] + h * (s * t * t + d[b] * t * (1 - t)) / den
    dy = s * s * (d[b + 1] * t * t + 2 * s * t * (1 - t) + d[b] * (1 - t) ** 2) / den ** 2
    return y, float(np.log(dy))


@pytest.mark.parametrize("bins", [2, 3, 8])
def test_spline_equals_the_paper_formula_and_its_inverse(bins: int) -> None:
    from flowviz.flows.splines import rational_quadratic_spline

    g = torch.Generator().manual_seed(bins)
    x = 3.5 * torch.randn(300, generator=g, dtype=torch.float64)
    x[:4] = torch.tensor([-3.0, 3.0, 0.0, 2.9999], dtype=torch.float64)
    params = 1.5 * torch.randn(300, 3 * bins - 1, generator=g, dtype=torch.float64)
    y, ld = rational_quadratic_spline(x, params, 3.0)
    ref = np.array([_spline_reference(float(a), p.numpy(), 3.0) for a, p in zip(x, params, strict=True)])
    np.testing.assert_allclose(y.numpy(), ref[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ld.numpy(), ref[:, 1], rtol=0, atol=1e-10)
    back, ld_back = rational_quadratic_spline(y, params, 3.0, inverse=True)
    torch.testing.assert_close(back, x, rtol=0, atol=1e-10)
    torch.testing.assert_close(ld_back, -ld, rtol=0, atol=1e-9)


@pytest.mark.parametrize("inverse", [False, True])
def test_spline_with_one_shared_parameter_set_equals_the_same_set_repeated(inverse: bool) -> None:
    """params with leading sizes 1 (the first coordinate of an autoregressive layer) is one spline for every
    element: the same numbers as the parameters copied for each element."""
    from flowviz.flows.splines import rational_quadratic_spline

    g = torch.Generator().manual_seed(5)
    x = 3 * torch.randn(500, 1, generator=g, dtype=torch.float64)
    p = torch.randn(1, 1, 23, generator=g, dtype=torch.float64)
    shared = rational_quadratic_spline(x, p, 4.0, inverse=inverse)
    repeated = rational_quadratic_spline(x, p.expand(500, 1, 23).clone(), 4.0, inverse=inverse)
    assert shared[0].shape == (500, 1)
    for a, b in zip(shared, repeated, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-13)
    # one bin: the identity (end derivatives 1, one straight segment)
    y, ld = rational_quadratic_spline(x[:, 0], torch.randn(500, 2, generator=g, dtype=torch.float64), 4.0)
    torch.testing.assert_close(y, x[:, 0], rtol=0, atol=1e-12)
    torch.testing.assert_close(ld, torch.zeros_like(ld), rtol=0, atol=1e-12)


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
def test_made_first_params_are_its_output_for_coordinate_one_at_any_input(dim: int) -> None:
    """Coordinate 1 of an autoregressive layer depends on no input: MADE.first_params (the bias block, no
    network pass, for dim > 1) must equal the network's block-1 output exactly, at x = 0 and elsewhere."""
    from flowviz.flows.nets import MADE

    made = MADE(dim, 7, hidden=16).double()
    g = torch.Generator().manual_seed(dim)
    with torch.no_grad():
        for p in made.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    first = made.first_params()
    assert first.shape == (1, dim, 7)
    x = 3 * torch.randn(21, dim, generator=g, dtype=torch.float64)
    x[0] = 0
    out = made(x)
    # bit for bit when read off the bias; dim = 1 runs the network on one row (BLAS may round differently)
    tol = {} if dim == 1 else {"rtol": 0, "atol": 0}
    torch.testing.assert_close(out[:, 0], first[:, 0].expand(21, 7), **tol)


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_made_block_is_its_output_block_from_the_units_it_depends_on(dim: int, depth: int) -> None:
    """MADE.block(x, i), the sampling pass's restricted evaluation, equals the whole network's block i (to
    rounding: fewer terms in each sum), does not change when the inputs of degree > i do, and carries gradients."""
    from flowviz.flows.nets import MADE

    made = MADE(dim, 5, hidden=12, depth=depth).double()
    g = torch.Generator().manual_seed(10 * dim + depth)
    with torch.no_grad():
        for p in made.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    x = torch.randn(40, dim, generator=g, dtype=torch.float64, requires_grad=True)
    out = made(x)
    for i in range(dim):
        block = made.block(x, i)
        assert block.shape == (40, 5)
        torch.testing.assert_close(block, out[:, i], rtol=1e-12, atol=1e-12)
        moved = x.detach().clone()
        moved[:, i:] += 7.0
        torch.testing.assert_close(made.block(moved, i), block.detach(), rtol=0, atol=0)
        (grad,) = torch.autograd.grad(block.sum(), x)
        (ref,) = torch.autograd.grad(out[:, i].sum(), x, retain_graph=True)
        torch.testing.assert_close(grad, ref, rtol=1e-12, atol=1e-12)
    # the plan is per block and device, and a restricted pass really leaves units out (dim 5: block 1 of 5)
    if dim == 5:
        rows, _ = made._block_plan(1)[0]
        assert isinstance(rows, torch.Tensor) and 0 < rows.numel() < 12


@pytest.mark.parametrize("transform", ["affine", "spline"])
def test_autoregressive_forward_is_the_same_with_and_without_autograd(transform: str) -> None:
    """The sequential forward writes columns in place without autograd and out of place with it:
    same numbers, and gradients still flow (and agree with finite differences) through the second."""
    layer = F.MaskedAutoregressive(3, hidden=16, transform=transform, bins=5, direction="density").double()
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=g, dtype=p.dtype))
        x_ng, ld_ng = layer(2 * torch.randn(40, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64))
    z = 2 * torch.randn(40, 3, generator=torch.Generator().manual_seed(8), dtype=torch.float64).requires_grad_(True)
    x, ld = layer(z)
    torch.testing.assert_close(x, x_ng, rtol=0, atol=0)
    torch.testing.assert_close(ld, ld_ng, rtol=0, atol=0)
    assert torch.autograd.gradcheck(lambda v: layer(v)[0].sum() + layer(v)[1].sum(), (z[:4].detach().requires_grad_(),))
