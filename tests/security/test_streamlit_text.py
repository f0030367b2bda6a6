"""Outside text never reaches Streamlit's Markdown unescaped (issue #9, §2).

Two parts:

1. ``ui.text.plain`` against Markdown/HTML/LaTeX/directive payloads (what it
   returns, and what CommonMark makes of it, checked with a small reference
   parser of the escapes), and one page run through ``streamlit.testing``.

2. A static walk of every Streamlit call of ``app.py``, ``pages/*.py`` and
   ``ui/*.py``. THE RULE, applied to each argument that Streamlit renders as
   Markdown (listed in ``MARKDOWN_ARGS``: bodies of ``st.markdown``/``st.write``/
   ``st.caption``/headers/alerts/``st.toast``, labels and ``help`` of every widget,
   container labels, tab labels, ``st.metric`` label/value/delta, progress and
   spinner texts, ``page_link`` labels, radio options or their ``format_func``,
   ``st.column_config`` labels), whatever object the method is called on (``st``,
   ``st.sidebar``, a column, a tab, a placeholder, a progress bar) except the
   module logger ``log``:

   an argument is accepted only if it is *safe*, where safe is
     * a constant (string, number, None, True/False);
     * ``plain(...)`` or ``link(...)`` of ``ui.text`` (the escaping boundary);
     * ``len(...)``, ``int(...)``, ``round(...)``, ``abs(...)`` (numbers);
     * a call of a function of the app's own modules (``ui/*.py``, the page
       itself, ``geo/formats/french.py``) every ``return`` of which is safe by
       this same rule — e.g. ``french.integer``/``french.decimal`` (French
       number formatting: a value formatted with a numeric format such as
       ``{x:,.0f}`` is safe, since such a format raises on a string) or
       ``commune_list`` (which escapes the names);
     * an f-string whose every ``{...}`` is safe or has a numeric format type
       (``b c d e E f F g G n o x X %``);
     * ``a + b``, ``a or b``, ``a if c else b``, ``sep.join(x)``, ``x.strip()``
       (and lstrip/rstrip/upper/lower/capitalize), ``x.replace(a, b)`` with a
       safe ``b``, ``d.get(k, default)``, ``d[k]``, list/tuple/dict displays and
       comprehensions — when every part holding text is safe;
     * a variable every binding of which in its scope (assignments, ``+=``,
       ``.append``/``.extend``/``.insert``, item assignments) is safe. Function
       parameters, loop variables, ``with``/``except`` names, unpacked tuples and
       imported names are not safe: their text comes from elsewhere.
   Attributes (``importer.label``) and any other call are not safe.

   Besides: ``unsafe_allow_html=True`` and ``st.html`` are refused everywhere,
   and ``plain`` must not be used where Streamlit does not render Markdown
   (selectbox/multiselect options, ``st.text``, ``st.code``, dataframes, text
   input values, download file names), where its backslashes would show.

Nothing is allow-listed: a call the rule cannot prove safe fails the test
with its file and line; the fix is to wrap the value in ``plain(...)``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis.strategies import sampled_from as st_sampled
from hypothesis.strategies import text as st_text

from tests.support.apptest import run_page
from ui.text import WORD_JOINER, link, plain

REPO = Path(__file__).resolve().parents[2]
SOURCES = [
    REPO / "app.py",
    *sorted((REPO / "pages").glob("*.py")),
    *sorted((REPO / "ui").glob("*.py")),
]
# Modules outside the pages whose functions the rule may follow (the one French number formatter).
HELPERS = {"geo.formats.french": REPO / "geo" / "formats" / "french.py"}

# --------------------------------------------------------------------------- the helper against payloads

PAYLOADS = [
    "![i](http://host/x.png)",
    "[a](javascript:alert(1))",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "$\\frac{1}{2}$",
    "$$x$$",
    ":red[x]",
    ":red-background[x]",
    ":material/warning:",
    ":smile:",
    ":streamlit:",
    "# titre",
    "1. liste",
    "- liste",
    "> citation",
    "titre\n===",
    "    code indenté",
    "`code`",
    "**gras** _italique_ ~~barré~~",
    "http://evil.example",
    "HTTPS://evil.example/x?y=1",
    "www.evil.example",
    "contact@evil.example",
    "<http://evil.example>",
    "[ref][1]\n\n[1]: http://evil.example",
    "{{7*7}}",
    "&lt;b&gt;",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "a\u202eRTL\x00\x07b",
    "CPTS du Pays d'Olmes (09) — 2026",
    "ftp://x.example mailto:a@b.example xmpp:a@b.example WWW.EVIL.EXAMPLE",
    "javascript:alert(1)",
]

ASCII_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def unescape(markdown: str) -> str:
    """What CommonMark shows for a text where every punctuation character is backslash-escaped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def unescaped_punctuation(markdown: str) -> list[str]:
    """ASCII punctuation characters not preceded by a backslash (each backslash escapes one character)."""
    found, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\":
            i += 2
            continue
        if markdown[i] in ASCII_PUNCTUATION:
            found.append(markdown[i])
        i += 1
    return found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_plain_leaves_no_markdown_sign_active(payload):
    out = plain(payload)
    assert unescaped_punctuation(out) == []  # no ![, ](, <, $, :red[, #, *, [ ... acts as Markdown
    unescaped = re.sub(r"\\.", "\x01", out, flags=re.S)  # each escaped character blanked out
    for active in ("![", "](", "<", "$", ":red[", ":material/", "http://", "www.", "{{"):
        assert active not in unescaped
    assert "\n" not in out and "\r" not in out  # no block can start: the text stays on its line
    assert not out.startswith(" ")  # no indented code block
    # the finders that run after escapes are removed (emoji, :material/, autolinks) see a word joiner
    shown = unescape(out)
    assert not re.search(
        r":[\w+-]+:", shown
    )  # remark-emoji / :streamlit: / material icon shortcodes
    assert not re.search(r"(https?://|www(?=\.))", shown, re.I)  # GFM autolink literals
    assert not re.search(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", shown)  # e-mail autolinks
    # readable: once rendered, the text is the original (white space collapsed, controls and bidi marks gone)
    expected = re.sub(r"\s+", " ", re.sub(r"[\x00-\x08\x0e-\x1f\u202e]", "", payload)).strip()
    assert shown.replace(WORD_JOINER, "") == expected


@settings(max_examples=300, deadline=None)
@given(
    st_text(
        alphabet=st_sampled(list("wWhtps:/.@[]()!<>$`*_~#-+=|\\{}&;'\"%, a1é\n\t\u2060\u202e\x00")),
        max_size=40,
    )
)
def test_plain_invariants_on_any_text(text):
    out = plain(text)
    assert unescaped_punctuation(out) == []
    shown = unescape(out)
    assert not re.search(r":[\w+-]+:", shown)
    assert not re.search(r"(https?://|www(?=\.))", shown, re.I)
    assert not re.search(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", shown)
    assert "\n" not in out and not out.startswith(" ")
    expected = re.sub(r"\s+", " ", re.sub(r"[\x00-\x08\x0e-\x1f\u202e]", "", text)).strip()
    assert shown.replace(WORD_JOINER, "") == expected.replace(WORD_JOINER, "")


def test_plain_of_non_text_values():
    assert plain(None) == ""
    assert plain(2026) == "2026"
    assert plain(3.5) == "3\\.5"
    assert plain("Foix") == "Foix"  # letters, digits and spaces are untouched


def test_link_only_for_web_addresses():
    assert (
        link("DREES", "https://drees.solidarites-sante.gouv.fr/x")
        == "[DREES](https://drees.solidarites-sante.gouv.fr/x)"
    )
    evil = link("x", "https://e.example/a)(b<c>[d] e")
    assert evil.startswith("[x](https://e.example/a%29%28b%3Cc%3E%5Bd%5D%20e)")
    for bad in ("javascript:alert(1)", "data:text/html,<b>", "//e.example/x", "vbscript:x"):
        text = link("![i](http://h/x.png)", bad)
        assert "](" not in text and unescaped_punctuation(text) == []


def test_markdown_sign_in_a_name_survives_real_names():
    # a real name with punctuation reads the same once rendered, without any invisible character
    for name in (
        "Saint-Jean-de-Luz (64) : CPTS « Côte basque » n°1, 25 % d'APL",
        "etalab-cs1100507 (1).csv",
        "data.gouv.fr",
        "Import réussi : finess.csv.",
    ):
        assert unescape(plain(name)) == name


# --------------------------------------------------------------------------- the page, run by Streamlit


def test_drawing_page_shows_a_scenario_name_as_text(isolated_data):
    """The drawing page with a scenario named like a Markdown image: the page's Markdown holds it escaped."""
    from geo.store.scenarios import ScenarioStore

    name = "![i](http://127.0.0.1:9/x.png)"
    store = ScenarioStore()
    store.create(name, scope="dep:09")
    tid = store.add_territory(name, "[clic](javascript:alert(1)) :red[x] $x$")
    app = run_page("pages/2_Dessiner_un_territoire.py", timeout=60, **{"scenario-wanted": name})
    assert not app.exception, app.exception
    texts = [
        el.value
        for kind in (
            "markdown",
            "caption",
            "subheader",
            "title",
            "info",
            "warning",
            "success",
            "error",
            "toast",
        )
        for el in getattr(app, kind)
    ]
    texts += (
        [el.label for el in app.expander]
        + [el.label for el in app.checkbox]
        + [el.label for el in app.button]
    )
    texts = [str(t) for t in texts]
    assert not any(("![" in t or "](" in t or ":red[" in t) for t in texts), texts
    assert any(
        unescape(t).replace(WORD_JOINER, "") == "[clic](javascript:alert(1)) :red[x] $x$"
        for t in texts
    )
    # the scenario's name is shown escaped (in the comparison heading and the deletion checkbox)
    assert any(name in unescape(t).replace(WORD_JOINER, "") for t in texts), texts
    assert tid


# --------------------------------------------------------------------------- the static rule

WIDGETS = (
    "button",
    "download_button",
    "form_submit_button",
    "checkbox",
    "toggle",
    "radio",
    "selectbox",
    "multiselect",
    "select_slider",
    "slider",
    "text_input",
    "text_area",
    "number_input",
    "date_input",
    "time_input",
    "file_uploader",
    "color_picker",
    "camera_input",
    "audio_input",
    "chat_input",
    "pills",
    "segmented_control",
    "link_button",
)
BODIES = (
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "success",
    "info",
    "warning",
    "error",
    "toast",
)

# method name -> (positional indices rendered as Markdown, keyword names rendered as Markdown)
MARKDOWN_ARGS: dict[str, tuple[tuple[int, ...] | str, tuple[str, ...]]] = {
    **{name: ((0,), ("body", "help")) for name in BODIES},
    **{name: ((0,), ("label", "help", "captions")) for name in WIDGETS},
    "write": ("all", ()),
    "metric": ((0, 1, 2), ("label", "value", "delta", "help")),
    "expander": ((0,), ("label",)),
    "popover": ((0,), ("label", "help")),
    "status": ((0,), ("label",)),
    "spinner": ((0,), ("text",)),
    "progress": ((1,), ("text",)),
    "tabs": ((0,), ("tabs",)),
    "page_link": ((1,), ("label", "help")),
    "form": ((), ()),
}
MARKDOWN_OPTIONS = {"radio": 1, "pills": 1, "segmented_control": 1}  # options rendered as Markdown
PLAIN_TEXT_CONTEXTS = {  # where Streamlit shows text as is: plain() there would show its backslashes
    "selectbox": ((1,), ("options", "format_func", "placeholder")),
    "multiselect": ((1,), ("options", "format_func", "placeholder")),
    "select_slider": ((1,), ("options", "format_func")),
    "text": ((0,), ("body",)),
    "code": ((0,), ("body",)),
    "dataframe": ((0,), ("data",)),
    "table": ((0,), ("data",)),
    "text_input": ((), ("value", "placeholder")),
    "text_area": ((), ("value", "placeholder")),
    "download_button": ((), ("file_name",)),
}
NOT_STREAMLIT = {"log", "logging", "logger"}
NUMBER_BUILTINS = {"len", "int", "round", "abs"}
TRUSTED = {"plain", "link"}  # ui.text: the boundary itself, tested above
TEXT_METHODS = {"strip", "lstrip", "rstrip", "upper", "lower", "capitalize", "copy"}
NUMERIC_FORMAT = set("bcdeEfFgGnoxX%")


@dataclass
class Scope:
    node: ast.AST | None
    module: "Module"
    parent: "Scope | None"
    bindings: dict[str, list[tuple]] = field(default_factory=dict)

    def bind(self, name: str, binding: tuple) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            if name in scope.bindings:
                return scope, scope.bindings[name]
            scope = scope.parent
        return None, None


@dataclass
class Module:
    path: Path
    dotted: str
    tree: ast.Module
    functions: dict[str, ast.AST] = field(default_factory=dict)
    imports: dict[str, tuple[str, str | None]] = field(
        default_factory=dict
    )  # alias -> (module, name|None)
    scopes: dict[int, Scope] = field(default_factory=dict)


SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _names(target) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


class _Binder(ast.NodeVisitor):
    """The bindings of one scope (not entering nested functions, classes or comprehensions)."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def generic_visit(self, node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*SCOPE_NODES, ast.ClassDef)):
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    self.scope.bind(child.name, ("function", child))
                continue
            if isinstance(child, COMPREHENSIONS):
                continue
            self.visit(child)

    def visit_Assign(self, node):
        for target in node.targets:
            self._target(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._target(node.target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._target(node.target, node.value)
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self.scope.bind(node.target.id, ("value", node.value))
        self.generic_visit(node)

    def _target(self, target, value):
        if isinstance(target, ast.Name):
            self.scope.bind(target.id, ("value", value))
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.scope.bind(target.value.id, ("value", value))  # an item of a container
        else:
            for name in _names(target):
                self.scope.bind(name, ("unsafe", "valeur dépaquetée d'un tuple"))

    def visit_For(self, node):
        for name in _names(node.target):
            self.scope.bind(name, ("unsafe", "variable de boucle"))
        self.generic_visit(node)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            if item.optional_vars is not None:
                for name in _names(item.optional_vars):
                    self.scope.bind(name, ("unsafe", "variable de « with »"))
        self.generic_visit(node)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.scope.bind(node.name, ("unsafe", "exception"))
        self.generic_visit(node)

    def visit_Import(self, node):
        for alias in node.names:
            self.scope.bind(
                (alias.asname or alias.name).split(".")[0], ("import", alias.name, None)
            )

    def visit_ImportFrom(self, node):
        for alias in node.names:
            self.scope.bind(alias.asname or alias.name, ("import", node.module or "", alias.name))

    def visit_Call(self, node):
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.attr in ("append", "extend", "insert", "update", "add")
        ):
            for arg in node.args[-1:]:
                self.scope.bind(func.value.id, ("value", arg))
        self.generic_visit(node)


class Checker:
    def __init__(self, sources):
        self.modules: dict[str, Module] = {}
        for path in sources:
            self.add_module(path, path.read_text(encoding="utf-8"))
        for dotted, path in HELPERS.items():
            self.add_module(path, path.read_text(encoding="utf-8"), dotted=dotted)
        self._names_busy: set = set()
        self._functions: dict[int, bool | None] = {}

    def add_module(self, path: Path, source: str, dotted: str | None = None) -> Module:
        tree = ast.parse(source, filename=str(path))
        dotted = dotted or ".".join(path.relative_to(REPO).with_suffix("").parts)
        module = Module(path, dotted, tree)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                module.functions[node.name] = node
        top = self._scope(tree, module, None)
        module.scopes[id(tree)] = top
        self._nested(tree, top, module)
        self.modules[dotted] = module
        return module

    def _scope(self, node, module, parent) -> Scope:
        scope = Scope(node, module, parent)
        if isinstance(node, SCOPE_NODES):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    scope.bind(arg.arg, ("unsafe", "paramètre"))
            body = node.body if isinstance(node.body, list) else [node.body]
        else:
            body = node.body
        binder = _Binder(scope)
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                scope.bind(stmt.name, ("function", stmt))
                for decorator in stmt.decorator_list:
                    binder.visit(decorator)
                continue
            binder.visit(stmt)
        return scope

    def _nested(self, node, scope, module):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, SCOPE_NODES):
                inner = self._scope(child, module, scope)
                module.scopes[id(child)] = inner
                self._nested(child, inner, module)
            elif isinstance(child, COMPREHENSIONS):
                inner = self._comprehension_scope(child, scope)
                module.scopes[id(child)] = inner
                self._nested(child, inner, module)
            else:
                self._nested(child, scope, module)

    @staticmethod
    def _comprehension_scope(node, scope) -> Scope:
        inner = Scope(node, scope.module, scope)
        for gen in node.generators:
            for name in _names(gen.target):
                inner.bind(name, ("unsafe", "variable de compréhension"))
        return inner

    # ------------------------------------------------------------------ safety of an expression

    def safe(self, node, scope: Scope) -> str | None:
        """None when ``node`` is safe by the rule, else the French reason."""
        if node is None or isinstance(node, ast.Constant):
            return None
        if isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.FormattedValue):
                    if part.conversion == -1 and self._numeric_format(part.format_spec):
                        continue
                    why = self.safe(part.value, scope)
                    if why:
                        return why
            return None
        if isinstance(node, ast.Name):
            return self._name(node.id, scope)
        if isinstance(node, ast.BinOp):
            if not isinstance(node.op, ast.Add):
                return f"opération {type(node.op).__name__} sur du texte"
            return self.safe(node.left, scope) or self.safe(node.right, scope)
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                why = self.safe(value, scope)
                if why:
                    return why
            return None
        if isinstance(node, ast.IfExp):
            return self.safe(node.body, scope) or self.safe(node.orelse, scope)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for elt in node.elts:
                why = self.safe(elt, scope)
                if why:
                    return why
            return None
        if isinstance(node, ast.Dict):
            for value in node.values:
                why = self.safe(value, scope)
                if why:
                    return why
            return None
        if isinstance(node, COMPREHENSIONS):
            inner = scope.module.scopes.get(id(node)) or self._comprehension_scope(node, scope)
            return self.safe(node.value if isinstance(node, ast.DictComp) else node.elt, inner)
        if isinstance(node, ast.Lambda):
            inner = scope.module.scopes.get(id(node)) or self._scope(node, scope.module, scope)
            return self.safe(node.body, inner)
        if isinstance(node, ast.Subscript):
            return self.safe(node.value, scope)
        if isinstance(node, ast.Attribute):
            if node.attr == "get":  # format_func=labels.get
                return self.safe(node.value, scope)
            return f"attribut « {ast.unparse(node)} » non échappé"
        if isinstance(node, ast.Call):
            return self._call(node, scope)
        return f"expression « {ast.unparse(node)} » non échappée"

    @staticmethod
    def _numeric_format(spec) -> bool:
        if spec is None or not spec.values:
            return False
        last = spec.values[-1]
        return isinstance(last, ast.Constant) and str(last.value)[-1:] in NUMERIC_FORMAT

    def _name(self, name: str, scope: Scope) -> str | None:
        owner, bindings = scope.lookup(name)
        if bindings is None:
            return f"« {name} » : nom inconnu (fonction native ?) non échappé"
        key = (id(owner), name)
        if key in self._names_busy:
            return None  # x += ...: the other bindings decide
        self._names_busy.add(key)
        try:
            for binding in bindings:
                kind = binding[0]
                if kind == "value":
                    why = self.safe(binding[1], owner)
                    if why:
                        return f"« {name} » ← {why}"
                elif kind == "unsafe":
                    return f"« {name} » ({binding[1]}) non échappé : entourez-le de plain(...)"
                elif kind == "import" and binding[2] and binding[1] in self.modules:
                    module = self.modules[binding[1]]  # a constant of another module of the app
                    top = module.scopes[id(module.tree)]
                    if binding[2] not in top.bindings:
                        return f"« {name} » introuvable dans {binding[1]}"
                    why = self._name(binding[2], top)
                    if why:
                        return f"« {name} » ({binding[1]}) ← {why}"
                else:
                    return f"« {name} » ({kind}) non échappé : entourez-le de plain(...)"
            return None
        finally:
            self._names_busy.discard(key)

    def _call(self, node: ast.Call, scope: Scope) -> str | None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in TRUSTED and self._is_ui_text(func.id, scope):
                return None
            if func.id in NUMBER_BUILTINS and scope.lookup(func.id)[1] is None:
                return None
            target = self._function(func.id, scope)
            if target is not None and self._builder_is_safe(*target):
                return None
            return f"appel « {ast.unparse(func)}(...) » : résultat non échappé"
        if isinstance(func, ast.Attribute):
            receiver, method = func.value, func.attr
            if isinstance(receiver, ast.Name):  # module.function(...) of a ui module
                target = self._module_function(receiver.id, method, scope)
                if target is not None:
                    if self._builder_is_safe(*target):
                        return None
                    return f"appel « {ast.unparse(func)}(...) » : résultat non échappé"
            if method in TEXT_METHODS and not node.args:
                return self.safe(receiver, scope)
            if (
                method == "replace" and len(node.args) == 2
            ):  # the replacement is what could bring text in
                return self.safe(receiver, scope) or self.safe(node.args[1], scope)
            if method == "join" and len(node.args) == 1:
                return self.safe(receiver, scope) or self.safe(node.args[0], scope)
            if method == "get":
                return self.safe(receiver, scope) or (
                    self.safe(node.args[1], scope) if len(node.args) > 1 else None
                )
            if method == "format":
                return self.safe(receiver, scope) or next(
                    (
                        w
                        for w in (
                            self.safe(a, scope)
                            for a in [*node.args, *(k.value for k in node.keywords)]
                        )
                        if w
                    ),
                    None,
                )
        return f"appel « {ast.unparse(func)}(...) » : résultat non échappé"

    def _is_ui_text(self, name: str, scope: Scope) -> bool:
        _, bindings = scope.lookup(name)
        return (
            bool(bindings)
            and all(b[0] == "import" and b[1] == "ui.text" for b in bindings)
            or (scope.module.dotted == "ui.text")
        )

    def _function(self, name: str, scope: Scope):
        owner, bindings = scope.lookup(name)
        if not bindings or len(bindings) != 1:
            return None
        binding = bindings[0]
        if binding[0] == "function" and isinstance(
            binding[1], (ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            return owner.module, binding[1]
        if binding[0] == "import" and binding[2] and binding[1] in self.modules:
            module = self.modules[binding[1]]
            if binding[2] in module.functions:
                return module, module.functions[binding[2]]
        return None

    def _module_function(self, alias: str, name: str, scope: Scope):
        _, bindings = scope.lookup(alias)
        if not bindings or len(bindings) != 1 or bindings[0][0] != "import":
            return None
        _, module_name, imported = bindings[0]
        dotted = f"{module_name}.{imported}" if imported else module_name
        module = self.modules.get(dotted)
        if module is None or name not in module.functions:
            return None
        return module, module.functions[name]

    def _builder_is_safe(self, module: Module, func) -> bool:
        """A function of the app whose every return is safe: its result needs no escaping."""
        key = id(func)
        if key in self._functions:
            return self._functions[key] is not False  # None: being checked (recursion)
        self._functions[key] = None
        scope = module.scopes[id(func)]
        returns = [n for n in self._own_nodes(func) if isinstance(n, ast.Return)]
        ok = bool(returns) and all(
            r.value is not None and self.safe(r.value, scope) is None for r in returns
        )
        self._functions[key] = ok
        return ok

    @staticmethod
    def _own_nodes(func):
        stack = list(func.body)
        while stack:
            node = stack.pop()
            yield node
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, (*SCOPE_NODES, ast.ClassDef)):
                    stack.append(child)

    # ------------------------------------------------------------------ the Streamlit calls

    def violations(self, module: Module) -> tuple[list[str], int]:
        found, checked = [], 0
        rel = module.path.relative_to(REPO) if module.path.is_relative_to(REPO) else module.path

        def visit(node, scope):
            nonlocal checked
            if isinstance(node, (*SCOPE_NODES, *COMPREHENSIONS)) and id(node) in module.scopes:
                scope = module.scopes[id(node)]
            if isinstance(node, ast.Call):
                checked += self._check_call(node, scope, rel, found)
            for child in ast.iter_child_nodes(node):
                visit(child, scope)

        visit(module.tree, module.scopes[id(module.tree)])
        return found, checked

    def _check_call(self, node: ast.Call, scope: Scope, rel, found: list[str]) -> int:
        func = node.func
        for keyword in node.keywords:
            if keyword.arg == "unsafe_allow_html" and not (
                isinstance(keyword.value, ast.Constant) and keyword.value.value is False
            ):
                found.append(f"{rel}:{node.lineno}: unsafe_allow_html interdit")
        if not isinstance(func, ast.Attribute):
            return 0
        root = func.value
        while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
            root = root.value if not isinstance(root, ast.Call) else root.func
        if isinstance(root, ast.Name) and root.id in NOT_STREAMLIT:
            return 0
        name = func.attr
        where = f"{rel}:{node.lineno}: {ast.unparse(func)}"
        if name == "html":
            found.append(f"{where}: st.html interdit (HTML brut)")
            return 1
        if name in PLAIN_TEXT_CONTEXTS:
            positions, keywords = PLAIN_TEXT_CONTEXTS[name]
            for arg in self._args(node, positions, keywords):
                if any(isinstance(n, ast.Name) and n.id == "plain" for n in ast.walk(arg)):
                    found.append(
                        f"{where}: plain() dans un texte que Streamlit n'interprète pas "
                        f"(les barres obliques s'afficheraient) : {ast.unparse(arg)}"
                    )
        is_column = (
            name.endswith("Column")
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "column_config"
        )
        if name not in MARKDOWN_ARGS and not is_column:
            return 0
        positions, keywords = ((0,), ("label", "help")) if is_column else MARKDOWN_ARGS[name]
        args = list(self._args(node, positions, keywords))
        if name in MARKDOWN_OPTIONS:
            format_func = next((k.value for k in node.keywords if k.arg == "format_func"), None)
            if format_func is not None:
                args.append(format_func)
            else:
                args += list(self._args(node, (MARKDOWN_OPTIONS[name],), ("options",)))
        for arg in args:
            why = self.safe(arg, scope)
            if why:
                found.append(f"{where}: {why}")
        return 1

    @staticmethod
    def _args(node: ast.Call, positions, keywords):
        if positions == "all":
            yield from node.args
        else:
            for i in positions:
                if i < len(node.args):
                    yield node.args[i]
        for keyword in node.keywords:
            if keyword.arg in keywords:
                yield keyword.value


def _check_snippet(source: str) -> list[str]:
    checker = Checker(SOURCES)
    module = checker.add_module(REPO / "ui" / "_snippet.py", source, dotted="ui._snippet")
    return checker.violations(module)[0]


def test_every_streamlit_text_of_the_app_is_escaped():
    checker = Checker(SOURCES)
    problems, checked = [], 0
    for module in list(checker.modules.values()):
        found, count = checker.violations(module)
        problems += found
        checked += count
    assert checked > 150, f"only {checked} Streamlit calls found: the walk is broken"
    assert not problems, "Texte non échappé vers le Markdown de Streamlit :\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "import streamlit as st\ndef f(name):\n    st.markdown(f'**{name}**')",
        "import streamlit as st\ndef f(name):\n    st.caption('Scénario ' + name)",
        "import streamlit as st\ndef f(scen):\n    st.subheader(scen.name)",
        "import streamlit as st\ndef f(exc):\n    st.error(str(exc))",
        'import streamlit as st\ndef f(rows):\n    for r in rows:\n        st.checkbox(f"Supprimer « {r} »")',
        "import streamlit as st\ndef f(d):\n    st.metric('MSP', d['msp'])",
        "import streamlit as st\ndef f(names):\n    st.radio('x', names)",
        "import streamlit as st\ndef f(names):\n    labels = {n: n for n in names}\n"
        "    st.radio('x', names, format_func=labels.get)",
        "import streamlit as st\ndef f(label):\n    st.toast(f'Annulé : {label}')",
        "import streamlit as st\ndef f(x):\n    st.button('ok', help=x)",
        "import streamlit as st\ndef f(x):\n    st.expander(x)",
        "import streamlit as st\ndef f(lines):\n    st.markdown('\\n'.join(f'- {l}' for l in lines))",
        "import streamlit as st\ndef f(x):\n    msg = 'a'\n    msg += x\n    st.info(msg)",
        "import streamlit as st\ndef f(x):\n    parts = []\n    parts.append(x)\n    st.info(' '.join(parts))",
        "import streamlit as st\ndef f(x):\n    bar = st.progress(0.0)\n    bar.progress(0.5, text=x)",
        "import streamlit as st\ndef f(x):\n    st.write(x)",
        "import streamlit as st\ndef f(x):\n    st.markdown(f'{x:>10}')",
        "import streamlit as st\nst.markdown('<b>x</b>', unsafe_allow_html=True)",
        "import streamlit as st\nfrom ui.text import plain\n"
        "def f(names):\n    st.selectbox('x', names, format_func=plain)",
        "import streamlit as st\nfrom ui.common import fmt_datetime\ndef f(x):\n    st.caption(fmt_datetime(x))",
        "import streamlit as st\ndef f(x, name):\n    st.caption('Territoire T'.replace('T', name))",
    ],
)
def test_the_rule_refuses_unescaped_text(source):
    assert _check_snippet(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import streamlit as st\nfrom ui.text import plain\ndef f(name):\n    st.markdown(f'**{plain(name)}**')",
        "import streamlit as st\nfrom geo.formats import french\n"
        "def f(d):\n    st.metric('MSP', french.integer(d['msp']))",
        "import streamlit as st\nfrom geo.formats import french\n"
        "def f(d):\n    st.caption(f\"{french.decimal(d['x'], 1)} %\")",
        "import streamlit as st\ndef f(d):\n    st.caption(f\"{d['share']:.1%} et {len(d['x'])} communes\")",
        "import streamlit as st\nL = {'a': 'A', 'b': 'B'}\ndef f(k):\n    st.radio('x', list(L), format_func=L.get)",
        "import streamlit as st\nfrom ui.text import plain\ndef f(lines):\n"
        "    st.markdown('  \\n'.join(f'- {plain(l)}' for l in lines))",
        "import streamlit as st\nfrom ui.common import commune_list\n"
        "def f(c, ctx):\n    st.warning(commune_list(c, ctx))",
        "import streamlit as st\ndef f(names):\n    st.selectbox('x', names, format_func=lambda n: n)",
    ],
)
def test_the_rule_accepts_escaped_text(source):
    assert _check_snippet(source) == [], source
