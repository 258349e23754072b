"""The common machinery of flowviz's anywidgets: binary arrays + JSON meta, controls, static export.

A view subclasses :class:`ArrayWidget`, names its front-end bundle (``_bundle_name``: the file
flowviz/static/<name>.js built from js/src/entries/<name>.js), computes its arrays with flowviz.scene,
and calls :meth:`publish`. The browser holds the arrays; only model changes come back to Python.
"""

from __future__ import annotations

import difflib
import inspect
import pathlib
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets

from .wire import encode_arrays

__all__ = ["ArrayWidget", "bundle_path", "STATIC"]

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"


def bundle_path(name: str) -> pathlib.Path:
    """flowviz/static/<name>.js, or a clear error saying how to build it."""
    path = STATIC / f"{name}.js"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the front end was not built. Run `npm install && npm run build` in js/, "
            "or reinstall flowviz with `pip install -e .` (which builds it).")
    return path


def _refuse_unknown_keywords(cls: type[traitlets.HasTraits], kwargs: dict[str, Any]) -> None:
    """A TypeError for keyword arguments that are neither the view's own parameters nor traits (ipywidgets'
    ``layout`` and the like): traitlets would only warn and drop them, so a typo (``map=`` for ``text=``)
    would silently show the default."""
    known = set(cls.class_trait_names())
    unknown = [k for k in kwargs if k not in known]
    if not unknown:
        return
    names = sorted(known | set(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"})
    public = [n for n in names if not n.startswith("_")]
    hints = []
    for k in unknown:
        close = difflib.get_close_matches(k, public, n=2)
        hints.append(f"{k!r}" + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""))
    raise TypeError(f"{cls.__name__} got unexpected keyword argument(s) {', '.join(hints)}")


class ArrayWidget(anywidget.AnyWidget):
    """An anywidget whose numeric state is a dict of binary float32 arrays plus a JSON ``meta``.

    Traits: ``arrays`` (name -> {dtype, shape, data: memoryview}), ``meta`` (JSON, with a ``version``
    that increments on every publish), ``controls`` (slider/toggle descriptions, see js/WIRE.md),
    ``params`` (id -> value, set by the browser), ``preset`` and ``theme``.
    """

    _bundle_name: ClassVar[str] = "widget"

    arrays = traitlets.Dict().tag(sync=True)
    meta = traitlets.Dict().tag(sync=True)
    controls: traitlets.List[Any] = traitlets.List().tag(sync=True)
    params = traitlets.Dict().tag(sync=True)
    preset = traitlets.Unicode("notebook").tag(sync=True)
    theme = traitlets.Unicode("auto").tag(sync=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # set the bundle before anywidget's hook, which turns a file path into watched file contents
        if "_esm" not in cls.__dict__:
            cls._esm = bundle_path(cls._bundle_name)  # type: ignore[assignment]
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs: Any) -> None:
        _refuse_unknown_keywords(type(self), kwargs)
        super().__init__(**kwargs)
        self._version = 0

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        """The widget's state, always whole: ``drop_defaults`` is ignored.

        ipywidgets' standard embedding (``ipywidgets.embed``: ``embed_minimal_html``, ``embed_snippet``,
        ``embed_data``) asks for the state without the values equal to their trait defaults. For an anywidget
        that drops the front end itself (``_esm`` is a trait whose default is the bundle), the view's class
        names and every setting left at its default: the page then fails with "Class null not found in
        module @jupyter-widgets/base" (anywidget issue #339). The defaults are a few hundred bytes beside
        the arrays.
        """
        return super().get_state(key=key, drop_defaults=False)  # type: ignore[no-any-return]

    def _get_embed_state(self, drop_defaults: bool = False) -> dict[str, Any]:
        """The state ipywidgets' embedding writes into a page (``ipywidgets.embed``): the whole state, marked
        ``static`` as in :meth:`save_html`'s page, so that the controls only the kernel could act on are greyed
        out with the reason instead of moving without effect (such a page has no kernel)."""
        state: dict[str, Any] = super()._get_embed_state(drop_defaults=False)
        state["state"]["static"] = True
        return state

    def publish(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Send new arrays and metadata in one message; ``meta["version"]`` is set here."""
        self._version += 1
        with self.hold_sync():
            self.arrays = encode_arrays(arrays)
            self.meta = {**meta, "version": self._version}

    @property
    def status(self) -> str:
        """The view's state as the banner shows it: "ok", "not invertible", "non-finite" or "error"."""
        return str(self.meta.get("status", "")) if self.meta else ""

    def publish_error(self, err: BaseException) -> None:
        """Keep the last picture and show what went wrong (never a blank widget)."""
        self._version += 1
        self.meta = {**(self.meta or {}), "status": "error", "message": f"{type(err).__name__}: {err}",
                     "version": self._version}

    def save_html(self, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
        """Write one self-contained HTML file (no CDN, no kernel) of this view."""
        from .export import save_html

        return save_html(self, path, title=title)
