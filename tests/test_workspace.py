"""flowviz.flows.workspace: conditioners evaluated into reused scratch memory give the plain forward's numbers,
never hand out or overwrite memory a caller holds, and step aside where they would be unsafe."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from flowviz import flows as F
from flowviz.flows import workspace
from flowviz.flows.nets import MADE, MLP


def _perturbed(module: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype))
    return module


def _plain(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The same forward with scratch memory off (autograd on takes the plain path)."""
    with torch.enable_grad():
        return module(x).detach()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mlp_and_made_give_the_plain_forwards_numbers_and_use_scratch(dtype: torch.dtype) -> None:
    mlp = _perturbed(MLP(3, 5, hidden=16, depth=3)).to(dtype)
    made = _perturbed(MADE(4, 7, hidden=16), 1).to(dtype)
    x = torch.randn(300, 3, dtype=dtype)
    xm = torch.randn(300, 4, dtype=dtype)
    workspace._local = threading.local()  # no scratch in this thread yet
    with torch.no_grad():
        assert workspace.applies(x, mlp)
        y, ym = mlp(x), made(xm)
    torch.testing.assert_close(y, _plain(mlp, x), rtol=0, atol=0)
    torch.testing.assert_close(ym, _plain(made, xm), rtol=0, atol=0)
    # the hidden layers really wrote into this thread's scratch buffers (both slots, this dtype, 300 x 16 floats)
    pools = workspace._local.pools
    assert {(0, dtype), (1, dtype)} <= set(pools) and all(p.numel() >= 300 * 16 for p in pools.values())


def test_an_output_is_never_scratch_and_survives_the_next_call() -> None:
    mlp = _perturbed(MLP(2, 4, hidden=32))
    x1, x2 = torch.randn(1000, 2), torch.randn(1000, 2)
    with torch.no_grad():
        y1 = mlp(x1)
        keep = y1.clone()
        y2 = mlp(x2)
    torch.testing.assert_close(y1, keep, rtol=0, atol=0)
    assert not torch.equal(y1, y2)
    pools = {t.data_ptr() for t in workspace._local.pools.values()}
    assert y1.data_ptr() not in pools and y2.data_ptr() not in pools
    # a network ending in an activation would return its last scratch buffer: it is copied out
    seq = nn.Sequential(nn.Linear(2, 8), nn.ReLU(inplace=True), nn.Linear(8, 8), nn.ReLU(inplace=True))
    with torch.no_grad():
        out = workspace.run(seq, x1)
        again = workspace.run(seq, x2)
    assert out.data_ptr() not in pools and not torch.equal(out, again)
    torch.testing.assert_close(out, seq(x1).detach(), rtol=0, atol=0)


@pytest.mark.parametrize("transform", ["affine", "spline"])
def test_an_autoregressive_layers_parameters_in_scratch_never_leak_into_its_outputs(transform: str) -> None:
    """MaskedAutoregressive.inverse takes its parameters from MADE.transient (scratch slot 2 without autograd):
    same numbers as the plain path, and outputs that a second call (which rewrites the scratch) leaves alone."""
    layer = _perturbed(F.MaskedAutoregressive(2, hidden=16, transform=transform, direction="density"), 4)
    x1, x2 = torch.randn(500, 2), torch.randn(500, 2)
    with torch.no_grad():
        z1, ld1 = layer.inverse(x1)
        keep = z1.clone(), ld1.clone()
        theta = layer.made.transient(x2)
        assert theta.data_ptr() == workspace.scratch(2, 500, theta.shape[1] * theta.shape[2], theta.dtype).data_ptr()
        layer.inverse(x2)
    torch.testing.assert_close((z1, ld1), keep, rtol=0, atol=0)
    with torch.enable_grad():
        ref = layer.inverse(x1)
    torch.testing.assert_close((z1, ld1), tuple(t.detach() for t in ref), rtol=0, atol=0)
    pools = {t.data_ptr() for t in workspace._local.pools.values()}
    assert z1.data_ptr() not in pools and ld1.data_ptr() not in pools


def test_plain_path_with_autograd_hooks_or_functorch() -> None:
    mlp = _perturbed(MLP(2, 3, hidden=8))
    x = torch.randn(50, 2)
    assert not workspace.applies(x, mlp)  # autograd on
    with torch.no_grad():
        seen: list[torch.Tensor] = []
        handle = mlp[0].register_forward_hook(lambda m, a, out: seen.append(out))
        assert not workspace.applies(x, mlp)
        mlp(x)
        mlp(2 * x)
        handle.remove()
        assert len(seen) == 2 and not torch.equal(seen[0], seen[1])  # kept activations are not overwritten
        # under vmap the inputs are functorch-wrapped: the plain forward runs (and works)
        out = torch.func.vmap(mlp)(x.reshape(5, 10, 2))
    torch.testing.assert_close(out.reshape(50, 3), _plain(mlp, x), rtol=1e-6, atol=1e-6)
    # flows.jacobian (torch.func) of a coupling layer without autograd around it, against central differences
    # of the plain path in float64 and against the layer's own log_det
    layer = _perturbed(F.AffineCoupling(2, hidden=8)).double()
    xd = x.double()
    with torch.no_grad():
        J = F.jacobian(layer, xd)
        workspace.ENABLED = False
        try:
            h = 1e-6
            fd = torch.stack([(layer(xd + h * e)[0] - layer(xd - h * e)[0]) / (2 * h)
                              for e in torch.eye(2, dtype=torch.float64)], -1)
            log_det = layer(xd)[1]
        finally:
            workspace.ENABLED = True
    torch.testing.assert_close(J, fd, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(torch.linalg.slogdet(J)[1], log_det, rtol=1e-10, atol=1e-10)
    assert (J[:, 1, 0].abs() > 1e-3).any(), "a perturbed coupling couples x2 to z1"


def test_inference_mode_and_no_grad_share_scratch_in_either_order() -> None:
    """Scratch first asked for under torch.inference_mode must still be writable under no_grad (an
    inference tensor cannot be updated in place outside inference mode): the buffers are normal tensors."""
    flow = _perturbed(F.maf(2, layers=2, hidden=16), 6)
    x = torch.randn(200, 2)
    workspace._local = threading.local()  # this thread's pools start empty, so inference_mode creates them
    with torch.enable_grad():
        expected = flow.log_prob(x).detach()
    with torch.inference_mode():
        a = flow.log_prob(x)
    with torch.no_grad():
        b = flow.log_prob(x)
    with torch.inference_mode():
        c = flow.log_prob(x)
    for got in (a, b, c):
        torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert not any(t.is_inference() for t in workspace._local.pools.values())


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")  # inside torch.func.jvp
def test_forward_mode_ad_takes_the_plain_path() -> None:
    """Dual tensors (torch.autograd.forward_ad) under no_grad: the out= kernels have no forward-AD formula, so
    the plain forward runs and the tangent (a Jacobian-vector product) comes out right."""
    import torch.autograd.forward_ad as fwad

    mlp = _perturbed(MLP(2, 3, hidden=8))
    x, v = torch.randn(20, 2), torch.randn(20, 2)
    with torch.no_grad(), fwad.dual_level():
        tangent = fwad.unpack_dual(mlp(fwad.make_dual(x, v))).tangent
    _, expected = torch.func.jvp(mlp, (x,), (v,))
    torch.testing.assert_close(tangent, expected, rtol=1e-6, atol=1e-6)


def test_disabled_scratch_is_the_plain_path() -> None:
    mlp = _perturbed(MLP(2, 3, hidden=8))
    x = torch.randn(50, 2)
    workspace.ENABLED = False
    try:
        with torch.no_grad():
            assert not workspace.applies(x, mlp)
            torch.testing.assert_close(mlp(x), _plain(mlp, x), rtol=0, atol=0)
    finally:
        workspace.ENABLED = True


def test_a_layer_over_the_scratch_limit_takes_the_plain_path(monkeypatch: pytest.MonkeyPatch) -> None:
    mlp = _perturbed(MLP(2, 3, hidden=8))
    x = torch.randn(100, 2)
    monkeypatch.setattr(workspace, "MAX_ELEMENTS", 799)  # 100 rows x 8 hidden = 800 elements
    with torch.no_grad():
        monkeypatch.setattr(workspace, "_local", threading.local())  # no pools yet in this thread
        y = mlp(x)
        assert not getattr(workspace._local, "pools", {})  # nothing was kept
    torch.testing.assert_close(y, _plain(mlp, x), rtol=0, atol=0)


def test_threads_have_their_own_scratch() -> None:
    flow = _perturbed(F.realnvp(2, layers=4, hidden=32), 3)
    xs = [torch.randn(3000, 2, generator=torch.Generator().manual_seed(i)) for i in range(4)]
    workspace.ENABLED = False  # the reference: the plain path (trace itself runs without autograd)
    try:
        refs = [flow.trace(x).states for x in xs]
    finally:
        workspace.ENABLED = True
    results: dict[int, list[torch.Tensor]] = {}

    def work(i: int) -> None:
        results[i] = [flow.trace(xs[i]).states for _ in range(5)]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, ref in enumerate(refs):
        for states in results[i]:
            torch.testing.assert_close(states, ref, rtol=0, atol=0)
