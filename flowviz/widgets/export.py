"""Static export: one self-contained HTML file with the front-end bundle, the state and the arrays
(base64), and a tiny model object standing in for the kernel. No CDN, no kernel, no network."""

from __future__ import annotations

import html
import json
import pathlib
import re
from typing import Any

import anywidget

from .wire import to_base64

__all__ = ["save_html", "page_html"]

_VIEW_TRAITS = ("position", "playing", "speed", "loop", "show_points", "show_grid", "show_density", "linked", "follow",
                "preset", "theme", "selection", "renderer")

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{margin:0;padding:16px;font-family:system-ui,sans-serif;background:#fff}}
@media (prefers-color-scheme: dark){{body{{background:#111}}}}</style></head>
<body><div id="flowviz-root"></div>
<script id="flowviz-state" type="application/json">{state}</script>
<script id="flowviz-esm" type="text/plain">{esm}</script>
<script type="module">
const state = JSON.parse(document.getElementById("flowviz-state").textContent);
const esm = document.getElementById("flowviz-esm").textContent;
const listeners = new Map();
const model = {{
  get: (k) => state[k],
  set: (k, v) => {{ const old = state[k]; state[k] = v; if (old !== v) for (const cb of listeners.get("change:" + k) || []) cb(); }},
  on: (ev, cb) => {{ if (!listeners.has(ev)) listeners.set(ev, new Set()); listeners.get(ev).add(cb); }},
  off: (ev, cb) => {{ if (!ev) listeners.clear(); else if (!cb) listeners.delete(ev); else listeners.get(ev)?.delete(cb); }},
  save_changes: () => {{}},
  send: () => {{}},
  widget_manager: null,
}};
const url = URL.createObjectURL(new Blob([esm], {{type: "text/javascript"}}));
const mod = await import(url);
const widget = mod.default;
const controller = new AbortController();
if (widget.initialize) await widget.initialize({{model, signal: controller.signal}});
const el = document.getElementById("flowviz-root");
await widget.render({{model, el, signal: controller.signal}});
window.flowvizModel = model;
</script></body></html>
"""


def page_html(widget: anywidget.AnyWidget, title: str = "flowviz", traits: tuple[str, ...] = ()) -> str:
    """The HTML text of a static page for ``widget`` (a flowviz :class:`~flowviz.widgets.base.ArrayWidget`).

    Nothing a front end could have written goes in unchecked: the front-end code is the view's bundle read from
    flowviz/static (never the instance's ``_esm`` trait, which a browser can set), the arrays, meta, controls and
    other kernel traits are the kernel's own last values (:meth:`~flowviz.widgets.base.ArrayWidget.published`),
    each array is checked to be one (:func:`~flowviz.widgets.wire.to_base64`), and the remaining traits are
    validated on every set."""
    from .base import ArrayWidget, bundle_path

    if not isinstance(widget, ArrayWidget):
        raise TypeError(f"page_html exports a flowviz view (an ArrayWidget), got {type(widget).__name__}")
    esm = bundle_path(type(widget)._bundle_name).read_text(encoding="utf-8")
    state: dict[str, Any] = {"arrays": to_base64(widget.published("arrays")), "meta": widget.published("meta"),
                             "controls": widget.published("controls"), "params": widget.published("params"),
                             "static": True}
    for name in _VIEW_TRAITS + traits:
        if widget.has_trait(name):
            state[name] = widget.published(name)
    return _PAGE.format(title=html.escape(title), state=state_script_text(state, type(widget).__name__),
                        esm=esm_script_text(esm))


def state_script_text(state: dict[str, Any], owner: str = "the view") -> str:
    """The JSON text of ``state`` as it can sit inside ``<script type="application/json">``: strict JSON (no NaN or
    Infinity, which JSON.parse refuses: a ValueError naming the entries instead of a blank page) with every "<"
    written ``\\u003c``, the same string to JSON.parse. So no text a user typed (the lens keeps a refused
    expression as typed, e.g. "<!--<script>") can end the element or put the HTML tokenizer into its
    escaped-script states, where the element's own end tag no longer ends it."""
    try:
        text = json.dumps(state, separators=(",", ":"), allow_nan=False)
    except ValueError:
        bad = []
        for key, value in state.items():
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                bad.append(key)
        raise ValueError(f"{owner}: the state to export holds NaN or inf (not JSON) in {', '.join(bad)}") from None
    return text.replace("<", "\\u003c")


#: "<!--", and "<script" / "</script" (any case) where the HTML tokenizer reads them as a tag name (followed by
#: whitespace, "/" or ">"): the "<" of each is what :func:`esm_script_text` rewrites
_SCRIPT_HAZARD = re.compile(r"<(?=!--|/?script[\t\n\f\r />])", re.IGNORECASE)


def esm_script_text(esm: str) -> str:
    """The front-end bundle as it can sit inside ``<script type="text/plain">``: the "<" of each "<!--", "<script"
    and "</script" is written ``\\x3C``. A closing tag would end the element early, and "<!--" then "<script"
    switch the HTML tokenizer into the double-escaped state, where the element's own end tag does not end it.
    In a module these sequences stand in strings, template literals, regular expressions or comments, where
    ``\\x3C`` reads as "<" (but for a raw template string); the bundles as built contain none of them."""
    return _SCRIPT_HAZARD.sub(r"\\x3C", esm)


def save_html(widget: anywidget.AnyWidget, path: str | pathlib.Path, title: str = "flowviz") -> pathlib.Path:
    """Write :func:`page_html` to ``path`` and return the path."""
    out = pathlib.Path(path)
    out.write_text(page_html(widget, title), encoding="utf-8")
    return out
