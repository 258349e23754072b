"""flowviz.flows.save / load: an exact round trip of a flow's current state, for every argument the layers
accept, with metadata that load can read, and a clear ValueError for every file that is not a flowviz flow."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import torch

from flowviz import flows as F
from flowviz.widgets.controls import apply_control


def points(n: int = 64) -> torch.Tensor:
    """Fixed test points in the plane."""
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(1))


def round_trip(flow: F.Flow, path: Path) -> F.Flow:
    """Save and load ``flow``; assert the rebuilt flow is the same, bit for bit."""
    F.save(flow, path)
    back = F.load(path)
    assert isinstance(back, F.Flow) and back.config() == flow.config()
    for (k1, v1), (k2, v2) in zip(flow.state_dict().items(), back.state_dict().items(), strict=True):
        assert k1 == k2 and v1.dtype == v2.dtype and torch.equal(v1, v2), k1
    x = points()
    assert torch.equal(flow.log_prob(x), back.log_prob(x))
    return back


# -- 1. a constraint toggled after construction --------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: F.Planar(2, u=[0.5, 0.0], w=[1.0, 0.0]),
                                  lambda: F.Radial(2, alpha=1.0, beta=0.5)], ids=["Planar", "Radial"])
def test_constrained_switched_off_by_the_widget_survives_save_and_load(tmp_path: Path,
                                                                       make: Callable[[], F.Bijection]) -> None:
    flow = F.Flow([make(), F.Affine(2, scale=1.5, shift=0.25)])
    assert apply_control(flow.layers[0], "constrained", (), False) == ""
    back = round_trip(flow, tmp_path / "toggled.pt")
    assert back.layers[0].constrained is False


def test_constrained_switched_on_again_after_a_fold_survives_save_and_load(tmp_path: Path) -> None:
    """Built unconstrained with beta < -alpha (a fold), then the switch turned on (beta raised): the recorded
    constructor call (constrained=False, beta=-2) and the current state differ in a way the constructor alone
    (constrained=True, beta=-2) would refuse."""
    layer = F.Radial(2, alpha=1.0, beta=-2.0, constrained=False)
    flow = F.Flow([layer])
    assert "beta raised" in apply_control(layer, "constrained", (), True)
    back = round_trip(flow, tmp_path / "on-again.pt")
    assert back.layers[0].constrained is True


def test_plain_attributes_set_directly_are_recorded_too(tmp_path: Path) -> None:
    planar = F.Planar(2, u=[0.5, 0.0], w=[1.0, 0.0], seed=0)
    flow = F.Flow([planar, F.Radial(2, beta=0.3)], chunk_size=1000)
    planar.constrained = False
    flow.chunk_size = 7
    back = round_trip(flow, tmp_path / "direct.pt")
    assert back.layers[0].constrained is False and back.chunk_size == 7
    untouched = F.Flow([F.Planar(2, seed=0)]).config()  # nothing changed: the record is the constructor call
    assert "attributes" not in untouched and "attributes" not in untouched["kwargs"]["layers"][0]


# -- 2. numpy arrays, numpy scalars and generators as constructor arguments ------------------------------------
@pytest.mark.parametrize("make", [
    lambda: F.Flow([F.Linear(2, matrix=np.array([[1.0, 1.0], [2.0, 0.0]]))]),
    lambda: F.Flow([F.Affine(2, scale=np.array([2.0, 0.5], dtype=np.float32), shift=np.zeros(2))]),
    lambda: F.Flow([F.Radial(2, centre=np.array([0.5, -0.25]), constrained=np.bool_(False))]),
    lambda: F.Flow([F.Planar(2, u=np.array([0.5, 0.0]), w=np.array([1.0, 0.25]), b=np.float64(0.1))]),
    lambda: F.Flow([F.Permute(2, permutation=np.array([1, 0])),
                    F.Affine(2, scale=np.array(2.0), shift=np.float32(0.5))]),
    lambda: F.Flow(F.Affine(2, scale=float(k + 1)) for k in range(3)),
    lambda: F.Flow(iter([F.Affine(2), F.Planar(2, seed=3)])),
], ids=["Linear-ndarray", "Affine-ndarray", "Radial-ndarray", "Planar-ndarray", "Permute-ndarray+0d",
        "Flow-generator", "Flow-iterator"])
def test_numpy_and_generator_arguments_round_trip(tmp_path: Path, make: Callable[[], F.Flow]) -> None:
    flow = make()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(2)))
    round_trip(flow, tmp_path / "numpy.pt")
    assert isinstance(flow._config["kwargs"]["layers"], list)  # a generator is kept as the list of its layers


def test_an_argument_that_cannot_be_recorded_names_the_layer_and_argument(tmp_path: Path) -> None:
    flow = F.Flow([F.Affine(2), F.Planar(2, b=Decimal("0.25"), seed=0)])  # builds and evaluates
    assert torch.isfinite(flow.log_prob(points())).all()
    with pytest.raises(TypeError, match=r"'b' of Flow\.layers\[1\] \(Planar\).*Decimal"):
        F.save(flow, tmp_path / "decimal.pt")
    assert not (tmp_path / "decimal.pt").exists()


# -- 3. metadata ------------------------------------------------------------------------------------------------
def test_numpy_and_tensor_metadata_is_saved_as_plain_python(tmp_path: Path) -> None:
    flow = F.realnvp(2, layers=1, hidden=4)
    F.save(flow, tmp_path / "m.pt", test_nll=np.float64(0.34), steps=np.int64(20), ok=np.bool_(True),
           losses=np.array([1.5, 0.5], dtype=np.float32), best=torch.tensor(0.25), grid=torch.eye(2),
           history={"loss": [np.float32(1.0), torch.tensor(2.0)], np.str_("name"): np.str_("moons")},
           pair=(np.int32(1), "a"), note=None)
    F.load(tmp_path / "m.pt")
    metadata = torch.load(tmp_path / "m.pt", weights_only=True)["metadata"]
    assert metadata == {"test_nll": 0.34, "steps": 20, "ok": True, "losses": [1.5, 0.5], "best": 0.25,
                        "grid": [[1.0, 0.0], [0.0, 1.0]], "history": {"loss": [1.0, 2.0], "name": "moons"},
                        "pair": (1, "a"), "note": None}
    assert type(metadata["test_nll"]) is float and type(metadata["steps"]) is int and type(metadata["ok"]) is bool
    assert type(metadata["history"]["loss"][0]) is float and type(next(iter(metadata["history"]))) is str


@pytest.mark.parametrize("value", [object(), Path("x"), {"inner": [1, Decimal(2)]}, 1j])
def test_metadata_load_could_not_read_is_refused_before_writing(tmp_path: Path, value: object) -> None:
    with pytest.raises(TypeError, match=r"cannot save metadata: metadata\['extra'\]"):
        F.save(F.Flow([F.Affine(2)]), tmp_path / "bad.pt", extra=value)
    assert not (tmp_path / "bad.pt").exists()


# -- 9. files that are not flowviz flows ----------------------------------------------------------------------
def _write_payload(payload: object) -> Callable[[Path], None]:
    return lambda path: torch.save(payload, path)


def _truncated(path: Path) -> None:
    F.save(F.realnvp(2, layers=1, hidden=4), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _wrong_shapes(path: Path) -> None:
    flow = F.Flow([F.Affine(2)])
    F.save(flow, path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"] = {k: torch.zeros(3) for k in payload["state_dict"]}
    torch.save(payload, path)


GOOD_CONFIG = F.Flow([F.Affine(2)]).config()
MALFORMED: dict[str, Callable[[Path], None]] = {
    "text": lambda path: path.write_bytes(b"hello"),
    "empty": lambda path: path.write_bytes(b""),
    "plain pickle": lambda path: path.write_bytes(pickle.dumps({"a": 1})),
    "npy": lambda path: np.save(open(path, "wb"), np.zeros(3)),
    "whole module": lambda path: torch.save(F.realnvp(2, layers=1, hidden=4), path),
    "truncated": _truncated,
    "other dict": _write_payload({"a": 1}),
    "list": _write_payload([1, 2]),
    "state dict only": _write_payload(F.Flow([F.Affine(2)]).state_dict()),
    "wrong format": _write_payload({"format": "flowviz-flow/99", "config": GOOD_CONFIG, "state_dict": {}}),
    "no kwargs": _write_payload({"format": "flowviz-flow/1", "config": {"type": "Flow"}}),
    "no kwargs, with state": _write_payload({"format": "flowviz-flow/1", "config": {"type": "Flow"},
                                             "state_dict": {}}),
    "nested no kwargs": _write_payload({"format": "flowviz-flow/1", "state_dict": {},
                                        "config": {"type": "Flow", "kwargs": {"layers": [{"type": "Affine"}]}}}),
    "config not a dict": _write_payload({"format": "flowviz-flow/1", "config": "Flow", "state_dict": {}}),
    "unknown class": _write_payload({"format": "flowviz-flow/1", "config": {"type": "os.system", "kwargs": {}},
                                     "state_dict": {}}),
    "bad argument": _write_payload({"format": "flowviz-flow/1", "state_dict": {},
                                    "config": {"type": "Affine", "kwargs": {"dim": "two"}}}),
    "bad attribute": _write_payload({"format": "flowviz-flow/1", "state_dict": {},
                                     "config": {"type": "Affine", "kwargs": {"dim": 2}, "attributes": {"forward": 1}}}),
    "state not tensors": _write_payload({"format": "flowviz-flow/1", "config": GOOD_CONFIG, "state_dict": {"a": 1}}),
    "missing parameters": _write_payload({"format": "flowviz-flow/1", "config": GOOD_CONFIG, "state_dict": {}}),
    "wrong shapes": _wrong_shapes,
}


@pytest.mark.parametrize("write", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_malformed_file_is_a_clear_value_error(tmp_path: Path, write: Callable[[Path], None]) -> None:
    path = tmp_path / "file.pt"
    write(path)
    with pytest.raises(ValueError, match=r"^not a flowviz flow file: .*file\.pt: \w") as caught:
        F.load(path)
    assert "weights_only=False" not in str(caught.value)  # never advise unpickling an unknown file


def test_a_pickled_module_is_told_how_to_make_a_flowviz_file(tmp_path: Path) -> None:
    torch.save(F.realnvp(2, layers=1, hidden=4), tmp_path / "whole.pt")
    with pytest.raises(ValueError, match=r"pickled Python objects.*flowviz\.flows\.save\(flow, path\)"):
        F.load(tmp_path / "whole.pt")


def test_a_missing_file_is_still_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        F.load(tmp_path / "absent.pt")


def test_a_file_that_restores_attributes_says_so_in_its_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A record with "attributes" is format /2, so that a reader of /1 (which would ignore them and build the
    flow as constructed, another flow) refuses it; a file with nothing changed stays /1; a /1 file carrying
    attributes is not a file flowviz wrote."""
    from flowviz.flows.serialize import FORMAT, FORMAT_ATTRIBUTES

    plain, toggled = tmp_path / "plain.pt", tmp_path / "toggled.pt"
    F.save(F.Flow([F.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3])]), plain)
    layer = F.Planar(2, u=[1.0, 0.5], w=[1.2, 0.3])
    layer.constrained = False
    F.save(F.Flow([layer]), toggled)
    assert torch.load(plain, weights_only=True)["format"] == FORMAT
    payload = torch.load(toggled, weights_only=True)
    assert payload["format"] == FORMAT_ATTRIBUTES
    assert F.load(toggled).layers[0].constrained is False
    payload["format"] = FORMAT
    torch.save(payload, tmp_path / "mislabelled.pt")
    with pytest.raises(ValueError, match="restores attributes, which format 'flowviz-flow/1' does not have"):
        F.load(tmp_path / "mislabelled.pt")
