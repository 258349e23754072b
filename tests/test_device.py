"""Everything follows the module's device: each computation on an accelerator (CUDA, MPS) against the same
computation on the CPU.

These tests need an accelerator: on a machine without one they are reported as skipped (CI has none).
On a GPU machine: ``bash scripts/device_check.sh`` runs them with the CUDA benchmarks (benchmarks/README.md).
The CPU side of every check is covered by the rest of the suite.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pytest
import torch
from layer_zoo import LAYERS

from flowviz import flows as F
from flowviz.data import get_dataset
from flowviz.scene import player_scene
from flowviz.scene.likelihood import likelihood_scene
from flowviz.scene.triangular import make_layer, time_logdet, triangular_scene

# FLOWVIZ_TEST_DEVICES=cpu runs these tests' own code on the CPU (a dry run of the test code, not a device check)
_DEVICES = [d for d in os.environ.get("FLOWVIZ_TEST_DEVICES", "").split(",") if d] or [
    d for d, ok in (("cuda", torch.cuda.is_available()), ("mps", torch.backends.mps.is_available())) if ok]
if not _DEVICES:
    pytest.skip("no CUDA or MPS device here (on a GPU machine: bash scripts/device_check.sh)", allow_module_level=True)


@pytest.fixture(params=_DEVICES)
def dev(request: pytest.FixtureRequest) -> torch.device:
    return torch.device(request.param)


def _dtype(dev: torch.device) -> torch.dtype:
    """float64 where the device has it (MPS has not)."""
    return torch.float32 if dev.type == "mps" else torch.float64


def _tol(dtype: torch.dtype) -> dict[str, float]:
    return {"rtol": 1e-9, "atol": 1e-9} if dtype == torch.float64 else {"rtol": 2e-4, "atol": 2e-4}


def _on(t: torch.Tensor, dev: torch.device) -> None:
    assert t.device.type == dev.type, f"{t.device} is not {dev}"


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_every_layer_runs_on_the_device_and_agrees_with_the_cpu(dev: torch.device, name: str) -> None:
    factory, min_dim, domain = LAYERS[name]
    dim = max(3, min_dim)
    g = torch.Generator().manual_seed(7)
    layer = factory(dim, g).double()
    z = torch.rand(64, dim, generator=g, dtype=torch.float64) * 0.8 + 0.1 if domain == "unit" else \
        torch.randn(64, dim, generator=g, dtype=torch.float64)
    x_ref, ld_ref = layer(z)
    back_ref, ild_ref = layer.inverse(x_ref)
    dtype = _dtype(dev)
    on_dev = copy.deepcopy(layer).to(device=dev, dtype=dtype)
    x, ld = on_dev(z.to(dev, dtype))
    back, ild = on_dev.inverse(x)
    for t in (x, ld, back, ild):
        _on(t, dev)
        assert t.dtype == dtype
    for got, ref in ((x, x_ref), (ld, ld_ref), (back, back_ref), (ild, ild_ref)):
        torch.testing.assert_close(got.cpu().double(), ref, **_tol(dtype))
    J = F.jacobian(on_dev, z.to(dev, dtype))
    _on(J, dev)
    torch.testing.assert_close(J.cpu().double(), F.jacobian(layer, z), **_tol(dtype))


@pytest.mark.parametrize("builder", ["realnvp", "maf", "nsf", "planar_flow"])
def test_flow_trace_log_prob_and_sample_on_the_device(dev: torch.device, builder: str) -> None:
    torch.manual_seed(3)
    flow = getattr(F, builder)(2).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.1 * torch.randn_like(p))
    flow.chunk_size = 300  # 1000 rows: 4 chunks on either device
    z = torch.randn(1000, 2, dtype=torch.float64)
    ref = flow.trace(z)
    dtype = _dtype(dev)
    on_dev = copy.deepcopy(flow).to(device=dev, dtype=dtype)
    assert on_dev.device.type == dev.type
    tr = on_dev.trace(z.to(dev, dtype))
    _on(tr.states, dev)
    torch.testing.assert_close(tr.states.cpu().double(), ref.states, **_tol(dtype))
    torch.testing.assert_close(tr.log_dets.cpu().double(), ref.log_dets, **_tol(dtype))
    x = ref.states[-1]
    lp = on_dev.log_prob(x.to(dev, dtype))
    _on(lp, dev)
    torch.testing.assert_close(lp.cpu().double(), flow.log_prob(x), **_tol(dtype))
    inv = on_dev.trace_inverse(x.to(dev, dtype))
    torch.testing.assert_close(inv.states[-1].cpu().double(), z, **_tol(dtype))
    s = on_dev.sample(500, torch.Generator(device=dev).manual_seed(0))
    _on(s, dev)
    assert s.shape == (500, 2) and bool(torch.isfinite(s).all())


def test_fit_steps_on_the_device_and_a_saved_model_loads_there(dev: torch.device, tmp_path) -> None:  # noqa: ANN001
    torch.manual_seed(0)
    flow = F.realnvp(2, layers=4, hidden=32).to(dev)
    data = get_dataset("moons").sample(4096, torch.Generator().manual_seed(0))
    from flowviz.train import fit

    history = fit(flow, data, steps=150, batch_size=256, lr=3e-3, progress=False, eval_every=50)
    assert history.status == "done", history.message
    assert all(p.device.type == dev.type for p in flow.parameters())
    assert np.isfinite(history.train_nll).all()
    assert history.test_nll[-1] < history.test_nll[0] - 0.3  # it learned on the device
    path = tmp_path / "flow.pt"
    F.save(flow, path)
    again = F.load(path, map_location=dev)
    x = data[:100].to(dev)
    _on(again.log_prob(x), dev)
    torch.testing.assert_close(again.log_prob(x), flow.log_prob(x), rtol=1e-6, atol=1e-6)


def test_player_scene_on_the_device_agrees_with_the_cpu(dev: torch.device) -> None:
    torch.manual_seed(1)
    flow = F.Flow([F.Affine(2, scale=[1.5, -0.7], shift=[0.3, 0.1]), F.Planar(2, seed=2), F.Radial(2)]
                  + list(F.realnvp(2, layers=3, hidden=16).layers)).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.05 * torch.randn_like(p))
    z = torch.randn(3000, 2, dtype=torch.float64)
    ref = player_scene(flow, z, gx=33)
    dtype = _dtype(dev)
    got = player_scene(copy.deepcopy(flow).to(device=dev, dtype=dtype), z.to(dev, dtype), gx=33)
    assert got.status == ref.status
    for key, arr in ref.arrays().items():
        np.testing.assert_allclose(got.arrays()[key], arr, rtol=1e-4, atol=1e-4, err_msg=key)
    assert [li.invertible for li in got.layers] == [li.invertible for li in ref.layers]


def test_flowplayer_keeps_the_flow_on_the_device_through_a_parameter_change(dev: torch.device) -> None:
    from flowviz import FlowPlayer
    from flowviz.widgets.wire import decode_array

    flow = F.Flow([F.Affine(2, scale=[1.0, 1.0], shift=[0.0, 0.0])] + list(F.realnvp(2, layers=2).layers)).to(dev)
    player = FlowPlayer(flow, n_points=2000, grid=17)
    v0 = player.meta["version"]
    player.params = {**player.params, "L1.shift.0": 1.25}
    assert player.meta["version"] == v0 + 1 and player.meta["status"] == "ok"
    assert all(p.device.type == dev.type for p in player.flow.parameters())
    pts = decode_array(player.arrays["points"])
    # state 1 is z shifted by 1.25 in x1: the base points, pulled back from the device, moved by exactly that
    np.testing.assert_allclose(pts[1, :, 0] - pts[0, :, 0], 1.25, rtol=0, atol=1e-5)
    # a toggle of the last layer reuses the first two on the device and sends what a full recompute sends
    player.params = {**player.params, "L3.enabled": False}
    assert player._cache.reused == 2
    full = FlowPlayer(flow, n_points=2000, grid=17)
    full.params = {**full.params, "L3.enabled": False}
    for name, value in full.scene.arrays().items():
        np.testing.assert_array_equal(player.scene.arrays()[name], value, err_msg=name)


def test_likelihood_and_triangular_scenes_on_the_device(dev: torch.device) -> None:
    torch.manual_seed(2)
    flow = F.realnvp(2, layers=2, hidden=16).double()
    data = get_dataset("moons").sample(500, torch.Generator().manual_seed(0), dtype=torch.float64)
    ref = likelihood_scene(flow, data)
    dtype = _dtype(dev)
    got = likelihood_scene(copy.deepcopy(flow).to(device=dev, dtype=dtype), data.to(dev, dtype))
    for key in ("z", "logdet", "mean_total"):
        np.testing.assert_allclose(getattr(got, key), getattr(ref, key), rtol=1e-4, atol=1e-4, err_msg=key)
    layer = make_layer("maf", 6, seed=0)
    tri_ref = triangular_scene(layer)
    tri = triangular_scene(copy.deepcopy(layer).to(dev))
    np.testing.assert_allclose(tri.jac, tri_ref.jac, rtol=1e-9, atol=1e-12)
    assert tri.upper_max == 0 and tri.logdet_diag == pytest.approx(tri_ref.logdet_diag, rel=1e-9)
    timing = time_logdet([8, 16], repeats=2, device=dev)
    assert timing["device"] == str(dev) and all(t > 0 for t in timing["lu_median_s"] + timing["diag_median_s"])
