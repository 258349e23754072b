"""The common machinery of flowviz's anywidgets: binary arrays + JSON meta, controls, static export.

A view subclasses :class:`ArrayWidget`, names its front-end bundle (``_bundle_name``: the file
flowviz/static/<name>.js built from js/src/entries/<name>.js), computes its arrays with flowviz.scene,
and calls :meth:`publish`. The browser holds the arrays; only model changes come back to Python.
"""

from __future__ import annotations

import difflib
import inspect
import json
import pathlib
import sys
from collections.abc import Iterable
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets

from .controls import describe_value, join_notes, shorten
from .wire import encode_arrays

__all__ = ["ArrayWidget", "Float", "bundle_path", "STATIC", "REFUSABLE"]

#: what a trait's validation raises for a value from a front end: a TraitError, or what a conversion raises first
#: (float(10**400): OverflowError; a type the trait's own code did not foresee: TypeError, ValueError)
REFUSABLE = (traitlets.TraitError, ArithmeticError, TypeError, ValueError)

#: anywidget's own traits (the front end's code, its CSS, the class id), added to each instance
_ANYWIDGET_TRAITS = frozenset({"_esm", "_css", "_anywidget_id"})

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


class Float(traitlets.Float):  # type: ignore[type-arg]
    """A float trait that refuses, as a TraitError, what no float holds (an integer beyond 1.8e308, such as the
    10**400 a browser's JSON can carry: traitlets' own Float raises OverflowError there) and true/false."""

    def validate(self, obj: Any, value: Any) -> Any:
        """The value as a float, or a TraitError naming the trait."""
        if isinstance(value, bool):
            raise traitlets.TraitError(f"{self.name} needs a number, got {value!r}")
        if isinstance(value, int):
            try:
                value = float(value)
            except OverflowError:
                raise traitlets.TraitError(f"{self.name} needs a number a float holds, got "
                                           f"{describe_value(value)}") from None
        return super().validate(obj, value)


class ArrayWidget(anywidget.AnyWidget):
    """An anywidget whose numeric state is a dict of binary float32 arrays plus a JSON ``meta``.

    Traits: ``arrays`` (name -> {dtype, shape, data: memoryview}), ``meta`` (JSON, with a ``version``
    that increments on every publish), ``controls`` (slider/toggle descriptions, see js/WIRE.md),
    ``params`` (id -> value, set by the browser), ``preset`` and ``theme``.

    Every value a front end sends is untrusted (a Voila page serves the widget to whoever reaches it):
    :meth:`set_state` refuses a write to a trait only the kernel sets (``_KERNEL_TRAITS``: what it computed and
    publishes; anywidget's front-end code ``_esm``; ipywidgets' own), and a value the trait's validation
    refuses; a choice outside ``_CHOICES`` is put back, whoever set it. A refusal is said in the view (see
    :meth:`_refuse`) and the front end's copy is set back to the kernel's value. :meth:`published` is the kernel's
    own last value of a kernel trait, which the static export uses.
    """

    _bundle_name: ClassVar[str] = "widget"
    #: traits only the kernel writes (subclasses add theirs: computed results, the measurement state)
    _KERNEL_TRAITS: ClassVar[frozenset[str]] = frozenset({"arrays", "meta", "controls"})
    #: settings with a fixed set of values: anything else is put back to the previous value, with a message
    _CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {"preset": ("notebook", "presentation"),
                                                      "theme": ("auto", "light", "dark")}

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
        for name, options in self._CHOICES.items():
            if name in kwargs and kwargs[name] not in options:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}, "
                                 f"got {describe_value(kwargs[name])}")
        self._kernel_values: dict[str, Any] = {}
        self._base_message = ""
        self._reporting = False
        self._reverting: set[str] = set()
        self._sent_keys: set[str] | None = None  # (while set_state applies a message: the traits sent meanwhile)
        super().__init__(**kwargs)
        self._version = 0
        self.observe(self._record_kernel_value, names=sorted(self._KERNEL_TRAITS))
        self.observe(self._on_choice, names=sorted(self._CHOICES))

    # -- what the front end may write ----------------------------------------------------------------------
    @classmethod
    def kernel_traits(cls) -> frozenset[str]:
        """The synced traits a front end may not write: ``_KERNEL_TRAITS``, anywidget's (``_esm``, the front end's
        code) and ipywidgets' own (model and view names, ``layout``, ...; not ``_view_count``, which a front end
        counts when asked to)."""
        own = set(anywidget.AnyWidget.class_trait_names(sync=True)) - {"_view_count"}
        return frozenset(own | _ANYWIDGET_TRAITS | cls._KERNEL_TRAITS)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a state message from a front end (what ipywidgets calls for each ``update``), value by value
        untrusted: a kernel trait is refused, and so is a value the trait's validation refuses (a TraitError, or
        the OverflowError of 10**400 in a float); the other values are applied together as ipywidgets does. Each
        refusal is said in the view (:meth:`_refuse`) and the front end's copy is sent back the kernel's value
        (ipywidgets sends only a trait that changed: a refused value changed nothing). A value the kernel
        adjusted (clamped, put back by an observer) without changing the trait is sent back too."""
        kernel = self.kernel_traits()
        refused: list[str] = []
        resend: list[str] = []
        accepted: dict[str, Any] = {}
        for name, value in sync_data.items():
            if name not in self.keys:
                continue  # (ipywidgets ignores it too)
            if name in kernel:
                refused.append(f"{name}: set by the kernel only")
                resend.append(name)
                continue
            try:
                checked = self._check_trait_value(name, value)
            except REFUSABLE as err:
                refused.append(f"{name} = {describe_value(value)} refused: {shorten(str(err), 200)}; "
                               f"kept {describe_value(getattr(self, name))}")
                resend.append(name)
                continue
            accepted[name] = checked
        self._sent_keys = set()
        try:
            super().set_state(accepted)
        except REFUSABLE as err:  # values refused only together (traitlets has rolled a TraitError's set back)
            refused.append(f"{', '.join(accepted)} refused: {shorten(str(err), 200)}")
            resend.extend(accepted)
        else:
            for name in accepted:
                if name not in self._sent_keys and not _same_json(self._json_of(name), sync_data[name]):
                    resend.append(name)  # adjusted to the value it had: no change, so ipywidgets sent nothing
        finally:
            self._sent_keys = None
        if resend:
            self.send_state(resend)
        if refused:
            self._refuse(join_notes(refused))

    def send_state(self, key: str | Iterable[str] | None = None) -> None:
        """ipywidgets' send_state, noting which traits were sent while :meth:`set_state` applies a message."""
        if self._sent_keys is not None:
            self._sent_keys.update(self.keys if key is None else [key] if isinstance(key, str) else list(key))
        super().send_state(key)

    def _check_trait_value(self, name: str, json_value: Any) -> Any:
        """Run trait ``name``'s validation (its type, then its ``@validate`` handler) on a value from a front end,
        without setting it: the validated value as JSON, or what the validation raises. (What is applied is the
        validated value: traitlets compares a new value with ``==`` and notifies nobody of an equal one, so a
        toggle's 1 for true would stay as sent.) A list or dict longer than the trait takes is
        refused first, by its length (traitlets would validate each entry, then write them all into its message):
        a list trait's ``maxlen``; ``params``: 4 times the entries it holds, at least 64 (the browser sends the
        entries it was given, one of them changed)."""
        trait = self.traits()[name]
        limit = getattr(trait, "_maxlen", sys.maxsize)
        if name == "params":
            limit = max(64, 4 * len(self.params or {}))
        if isinstance(json_value, (list, dict)) and len(json_value) > limit:
            raise traitlets.TraitError(f"{name} has {len(json_value):,} entries; at most {limit:,} are taken")
        if name == "params" and isinstance(json_value, dict):
            for key, value in json_value.items():
                if not (value is None or isinstance(value, (bool, int, float, str))):
                    # (a control's value is a number, true/false or a name: a nested list of a million entries
                    # would cost ipywidgets seconds to compare with what the kernel sends back)
                    raise traitlets.TraitError(f"params[{shorten(str(key))!r}] holds a {type(value).__name__}: a "
                                               "control's value is a number, true/false or text")
        from_json = self.trait_metadata(name, "from_json", self._trait_from_json)
        to_json = self.trait_metadata(name, "to_json", self._trait_to_json)
        return to_json(trait._validate(self, from_json(json_value, self)), self)

    def _json_of(self, name: str) -> Any:
        """Trait ``name`` as the front end gets it (ipywidgets' to_json)."""
        to_json = self.trait_metadata(name, "to_json", self._trait_to_json)
        return to_json(getattr(self, name), self)

    def _on_choice(self, change: dict[str, Any]) -> None:
        """A setting of ``_CHOICES`` outside its values goes back to the previous one, with a message."""
        self._check_choice(change, self._CHOICES[change["name"]])

    def _check_choice(self, change: dict[str, Any], options: Iterable[str]) -> bool:
        """Whether ``change`` set one of ``options``; if not, the trait is put back to its previous value and
        :meth:`_refuse` says so (False also for the change that puts it back: nothing to do for either)."""
        name, new, old = change["name"], change["new"], change["old"]
        if name in self._reverting:
            return False
        options = tuple(options)
        if new in options:
            return True
        self._reverting.add(name)
        try:
            setattr(self, name, old)
        finally:
            self._reverting.discard(name)
        self._refuse(f"{name} must be one of {', '.join(map(repr, options))}, got {describe_value(new)}; "
                     f"kept {old!r}")
        return False

    def _refuse(self, note: str) -> None:
        """Say that a value was refused: by default in the banner (``meta.message``: the last computed message,
        then ``note``, in a new meta version; status and arrays unchanged). A view whose front end shows its
        messages elsewhere overrides this."""
        self._report(note)

    def _report(self, note: str) -> None:
        """Show ``note`` after the message of the last computation (a later note replaces it: repeated refusals
        do not pile up), in a new meta version."""
        self._version += 1
        message = (self._base_message + " \u2014 " if self._base_message else "") + note
        self._reporting = True
        try:
            self.meta = {**(self.meta or {}), "message": message, "version": self._version}
        finally:
            self._reporting = False

    def _record_kernel_value(self, change: dict[str, Any]) -> None:
        """Keep the kernel's own value of a kernel trait (never one a front end's message set: belt and braces
        to :meth:`set_state`'s refusal); and the message of the last computation, which :meth:`_report`
        extends."""
        name = change["name"]
        if name in getattr(self, "_property_lock", {}):
            return
        self._kernel_values[name] = change["new"]
        if name == "meta" and not self._reporting:
            self._base_message = str((change["new"] or {}).get("message", "") or "")

    def published(self, name: str) -> Any:
        """What the static export writes for trait ``name``: for a kernel trait, the kernel's own last value (its
        default if the kernel never set it); else the trait's value (validated on every set)."""
        if name in self._KERNEL_TRAITS:
            if name in self._kernel_values:
                return self._kernel_values[name]
            return self.trait_defaults(name)
        return getattr(self, name)

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


def _numbers_as_floats(value: Any) -> Any:
    """``value`` with every int (not bool) as a float, inside lists, tuples and dicts: JavaScript has one number
    type, so the browser's 3 is the kernel's 3.0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return value
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_numbers_as_floats(v) for v in value]
    return value


def _same_json(a: Any, b: Any) -> bool:
    """Whether two values are the same to the browser: the same JSON text once every number is a float (a tuple
    and a list alike; 3 and 3.0 alike, as JavaScript has one number type, or a position the browser sent as 3
    would be sent back, late, after it had moved on; unlike ``==``, true and 1 differ; False for what is not
    JSON)."""
    try:
        return json.dumps(_numbers_as_floats(a), sort_keys=True) == json.dumps(_numbers_as_floats(b), sort_keys=True)
    except (TypeError, ValueError):
        return False
