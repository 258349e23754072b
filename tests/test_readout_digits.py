"""FlowPlayer's hover readout shows only the digits its numbers carry (js/src/readout.js formatWithin): the flow
computed in its dtype, the wire rounded to float32. js/test/readout-digits.test.js checks every number shown at
every mesh vertex and state against the float64 truth written here (autograd Jacobians of a float64 copy of the
flow, its exact log-dets and log p), for a float32 and a float64 lecture flow and the shipped float32 RealNVP.
Regenerate the fixture: python tests/test_readout_digits.py."""

from __future__ import annotations

import base64
import copy
import json
import pathlib

import numpy as np
import torch
from torch.func import jacrev, vmap

from flowviz import flows, pretrained
from flowviz.scene import player_scene
from flowviz.scene.mesh import base_extent, mesh_grid
from flowviz.widgets.wire import decode_array, encode_arrays, to_base64

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "js" / "test" / "fixtures" / "readout_digits.json"
GRID = 11


def _lecture() -> flows.Flow:
    """The notebook's lecture flow (Planar near det J = 1, where float32 rounding shows first) and a coupling."""
    torch.manual_seed(0)
    coupling = flows.AffineCoupling(2, hidden=16)
    with torch.no_grad():
        for p in coupling.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return flows.Flow([flows.Affine(2, scale=[1.5, 0.6], shift=[0.5, 0.0]),
                       flows.Linear(2, matrix=[[1.0, 1.0], [2.0, 0.0]]),
                       flows.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3], b=0.0),
                       flows.Radial(2, centre=[0.5, -0.5], alpha=0.5, beta=1.0), coupling])


def _f64(values: torch.Tensor) -> str:
    """float64 values, little-endian, base64 (the truth to compare with: not the wire's float32)."""
    return base64.b64encode(values.detach().to(torch.float64).contiguous().numpy().astype("<f8").tobytes()).decode()


def _truth(flow: flows.Flow, gx: int) -> dict[str, str]:
    """J (K, V, 4), det J and log|det J| (K, V) per layer, log p (K+1, V) and the positions (K+1, V, 2) per state
    at the mesh vertices, from
    a float64 copy of the flow, each as base64 float64 (_f64)."""
    f64 = copy.deepcopy(flow).double().eval()
    h = mesh_grid(base_extent(f64.base), gx, gx, dtype=torch.float64)
    logp = f64.base.log_prob(h)
    Js, dets, logps, positions = [], [], [logp], [h]
    cum = torch.zeros(h.shape[0], dtype=torch.float64)
    for layer in f64.bijections:
        J = vmap(jacrev(lambda x, layer=layer: layer(x[None])[0][0]))(h)
        det = J[:, 0, 0] * J[:, 1, 1] - J[:, 0, 1] * J[:, 1, 0]
        h = layer(h)[0]
        positions.append(h)
        cum = cum + torch.log(det.abs())
        Js.append(J.reshape(-1, 4))
        dets.append(det)
        logps.append(logp - cum)
    det = torch.stack(dets)
    return {"J": _f64(torch.stack(Js)), "det": _f64(det), "logabsdet": _f64(torch.log(det.abs())),
            "logp": _f64(torch.stack(logps)), "pos": _f64(torch.stack(positions))}


def digits_fixture() -> dict:
    # shift32: a float32 shift by +1e5 and back: positions of size 1 carry 1e5's rounding (the bound must follow)
    shift = flows.Flow([flows.Affine(2, shift=[1e5, -1e5]), flows.Affine(2, shift=[-1e5, 1e5])])
    cases = {"lecture32": _lecture(), "lecture64": copy.deepcopy(_lecture()).double(),
             "realnvp32": pretrained.load("moons-realnvp"), "shift32": shift}
    out = {}
    for name, flow in cases.items():
        z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0), dtype=next(flow.parameters()).dtype)
        scene = player_scene(flow, z, gx=GRID)
        out[name] = {"arrays": to_base64(encode_arrays(scene.arrays())), "meta": scene.meta(),
                     "truth": _truth(flow, GRID)}
    return out


def test_the_scene_says_its_dtype_and_each_layers_error_scale() -> None:
    flow = _lecture()
    z = torch.randn(20, 2)
    meta = player_scene(flow, z, gx=5).meta()
    assert meta["eps"] == 2.0**-24
    assert [layer["error_scale"] for layer in meta["layers"]] == [8.0, 8.0, 8.0, 8.0, 1024.0]
    assert player_scene(flow.double(), z.double(), gx=5).meta()["eps"] == 2.0**-53


def test_js_digits_fixture_is_current() -> None:
    """js/test/fixtures/readout_digits.json is what player_scene sends now, with the float64 truth."""
    saved = json.loads(FIXTURE.read_text())
    fresh = json.loads(json.dumps(digits_fixture()))
    assert saved.keys() == fresh.keys()
    for name in fresh:
        assert saved[name]["meta"] == fresh[name]["meta"], name
        for key, value in fresh[name]["arrays"].items():
            np.testing.assert_allclose(decode_array(saved[name]["arrays"][key]), decode_array(value), rtol=1e-6,
                                       atol=1e-7, err_msg=f"{name}.{key}")
        for key, value in fresh[name]["truth"].items():
            old, new = (np.frombuffer(base64.b64decode(t), dtype="<f8") for t in (saved[name]["truth"][key], value))
            np.testing.assert_allclose(old, new, rtol=1e-9, atol=1e-12, err_msg=f"{name}.{key}")


if __name__ == "__main__":
    FIXTURE.write_text(json.dumps(digits_fixture()))
    print(f"wrote {FIXTURE} ({FIXTURE.stat().st_size // 1024} KB)")
