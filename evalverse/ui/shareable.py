"""Keeping the view in the address bar, so a link opens the same view (gradio glue for `url_state`).

One hidden textbox (`#ev-url`) holds the state's query string. Handlers that change the view take it as an
input and return the changed query (`url_state.update`); whenever it changes, a line of script writes it into the
page address with `history.replaceState` (no reload). Choosing a tab changes the `tab` key in the browser. When a page opens, the Blocks `load` event reads the
request's query parameters and every tab's restore hook fills its components from them.

A tab takes part with `ctx.share.bind(key, component)` (a simple value, e.g. a source picker: restored on load,
written back when the user changes it) or `ctx.share.on_load(outputs, fn, tab=name)` (fn(state) -> values for
outputs). `ctx.share.follow(html_component)` makes the `?key=value…` links inside an HTML component open their view
in this page (no reload): the link's tab is selected and that tab's `on_load` hooks fill it from the link, as when a
page opens on it. The component is given `FOLLOW_JS` as its js_on_load; a click with a modifier key still opens the
link's real address in a new page.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Sequence

import gradio as gr

from evalverse.ui import url_state

log = logging.getLogger(__name__)

# writes the state into the address bar; drops a #fragment left by an in-page link. The first write is the page-load
# restore's: until then tab clicks are not recorded (the tab shown at mount would overwrite the link's).
WRITE_URL_JS = """
(q) => {
  window.__evUrlReady = true;
  const u = new URL(window.location.href);
  u.search = q ? '?' + q : '';
  u.hash = '';
  if (u.href !== window.location.href) window.history.replaceState(null, '', u.href);
  return [];
}
"""


# a tab chosen by the user: its name into the state, in the browser (no round trip, so no stale state races it)
TAB_JS = """
(q) => {
  if (!window.__evUrlReady) return q;
  const p = new URLSearchParams(q || '');
  p.set('tab', %s);
  return p.toString();
}
"""


# Turns a click on a `?…` link (or on an element marked data-open-run that holds one) into the component's `click`
# event with the link's query, instead of loading the page; given to the gr.HTML as js_on_load (see `follow`).
FOLLOW_JS = """
element.addEventListener('click', (e) => {
  if (e.ctrlKey || e.metaKey || e.shiftKey || e.button === 1) return;
  let a = e.target.closest('a[href^="?"]');
  if (!a) {
    const row = e.target.closest('[data-open-run]');
    a = row && row.querySelector('a[href^="?"]');
  }
  if (!a) return;
  e.preventDefault();
  trigger('click', {query: a.getAttribute('href')});
});
"""


class Shareable:
    """The URL state of one app: the hidden query textbox, bindings and restore hooks (built inside Blocks)."""

    def __init__(self) -> None:
        self.url = gr.Textbox(value="", visible="hidden", elem_id="ev-url", show_label=False, container=False)
        self.url.change(None, [self.url], None, js=WRITE_URL_JS, queue=False, show_progress="hidden")
        # (outputs, fn(state) -> values, the tab they belong to or None)
        self._hooks: list[tuple[list[Any], Callable[[dict[str, str]], Sequence[Any]], str | None]] = []
        self._follow: list[Any] = []
        self._tabs: dict[str, str] = {}  # url name -> gr.Tab id
        self._on_select: dict[str, list[tuple[Callable[..., Any], list[Any], list[Any]]]] = {}

    def bind(self, key: str, component: Any, choices: Callable[[], Sequence[Any]] | None = None) -> None:
        """Keep `component`'s value under `key`: set from the link on load (when it is one of `choices()`, if
        given), written to the link when the user changes it."""
        if key not in url_state.KEYS:
            raise KeyError(f"{key!r} is not a shareable state key; known: {', '.join(url_state.KEYS)}")

        def restore(state: dict[str, str]) -> tuple[Any]:
            value = state.get(key)
            if value is None or (choices is not None and value not in list(choices())):
                return (gr.skip(),)
            return (value,)

        self._hooks.append(([component], restore, None))
        component.input(lambda value, q: url_state.update(q, **{key: value}), [component, self.url], [self.url],
                        queue=False, show_progress="hidden")

    def on_load(self, outputs: Sequence[Any], fn: Callable[[dict[str, str]], Sequence[Any]],
                tab: str | None = None) -> None:
        """Call `fn(state)` when a page opens; it returns one value (or gr.skip()) per output. With `tab` (its
        name in the link), also when a followed link (`follow`) opens that tab."""
        self._hooks.append((list(outputs), fn, tab))

    def follow(self, component: Any) -> None:
        """The `?…` links inside `component` (a gr.HTML built with `js_on_load=FOLLOW_JS`) open their view in this
        page: the link's tab selected, its hooks run on the link's state, the link written to the address bar."""
        self._follow.append(component)

    def on_select(self, name: str, fn: Callable[..., Any], inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        """Run `fn` whenever the user selects tab `name` (e.g. to refresh a list); call while building the tab."""
        self._on_select.setdefault(name, []).append((fn, list(inputs), list(outputs)))

    def tab(self, name: str, tab: Any, tab_id: str) -> None:
        """Record a tab (so `?tab=name` selects it) and write `tab=name` when the user selects it."""
        self._tabs[name] = tab_id
        tab.select(None, [self.url], [self.url], js=TAB_JS % json.dumps(name), queue=False, show_progress="hidden")
        for fn, inputs, outputs in self._on_select.get(name, []):
            tab.select(fn, inputs, outputs, show_progress="hidden")

    def install(self, demo: gr.Blocks, tabs: Any) -> None:
        """Wire the page-load restore (call once, after every tab is built)."""
        outputs = [tabs, self.url] + [c for comps, _, _ in self._hooks for c in comps]
        hooks, names = list(self._hooks), dict(self._tabs)

        def fill(state: dict[str, str], only_tab: str | None = None) -> list[Any]:
            values: list[Any] = [gr.Tabs(selected=names[state["tab"]]) if state.get("tab") in names else gr.skip(),
                                 url_state.encode(state)]
            for comps, fn, tab in hooks:
                if only_tab is not None and tab != only_tab:
                    values.extend([gr.skip()] * len(comps))
                    continue
                try:
                    got = list(fn(state))
                except Exception:  # noqa: BLE001 - one tab's restore must not stop the others
                    log.exception("restoring the view from the link failed")
                    got = [gr.skip()] * len(comps)
                values.extend(got if len(got) == len(comps) else [gr.skip()] * len(comps))
            return values

        def restore(request: gr.Request) -> list[Any]:
            return fill(url_state.parse(dict(request.query_params) if request is not None else {}))

        def go(evt: gr.EventData) -> list[Any]:
            """A followed link: only its tab's hooks run (the others keep what they show)."""
            state = url_state.parse(str((getattr(evt, "_data", None) or {}).get("query") or ""))
            if state.get("tab") not in names:
                return [gr.skip()] * len(outputs)
            return fill(state, only_tab=state["tab"])

        demo.load(restore, None, outputs, show_progress="hidden")
        for component in self._follow:
            component.click(go, None, outputs, show_progress="hidden")
