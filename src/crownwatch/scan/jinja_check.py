"""Judging Jinja chat templates (GGUF ``tokenizer.chat_template*``) on Jinja's own syntax tree.

Python front ends render chat templates with Jinja2; rendered without the sandbox, a template
that walks ``__class__`` / ``__globals__`` / ``__builtins__`` runs code (CVE-2024-34359,
llama-cpp-python). Searching the text for ``__globals__`` misses payloads that build the
name at render time: ``''|attr('__cla' ~ 'ss__')``, ``'%c%c'|format(95, 95)``,
``['_', '_init_', '_']|join``, a ``{% set %}`` variable, a ``{% for %}`` over literals. So the
template is parsed with **Jinja's own parser** (``Environment.parse``: lexing and parsing
only, nothing is compiled or rendered) and the tree is judged:

* attribute access (``x.name``) or subscript (``x['name']``) to a name starting with ``_``
  (dunders, ``_TemplateReference__context``, ``_module``) - the sandbox forbids them and only
  escapes use them;
* the ``attr`` filter and the attribute arguments of ``map`` / ``selectattr`` /
  ``rejectattr`` / ``groupby`` / ``sort`` / ``sum`` / ``unique`` / ``min`` / ``max``, and
  subscripts whose key is built at render time: names are folded from literals through
  ``~``, ``+``, ``*``, ``join``, ``format``, ``replace``, ``reverse``, ``lower``... and
  ``{% set %}`` / ``{% for %}`` variables; a private name is an escape, and a name that cannot
  be folded (computed from render-time data) is treated as one;
* ``str.format`` / ``format_map`` on a format string that reaches attributes or items
  (``'{0.__class__}'.format(x)``), or on a computed format string;
* keyword arguments named ``_...`` (``dict(__class__=1)|first``), names such as
  ``__builtins__``, attribute access on the known SSTI gadget globals (``lipsum``,
  ``cycler``, ``joiner``, ``namespace``, ``range``, ``dict``, ``self``, ``config``,
  ``request``...) or on ``os`` / ``subprocess`` / ``builtins``, and calls of execution
  primitives (``.popen(``, ``.system(``, ``.eval(``...);
* ``{% include %}`` / ``{% import %}`` / ``{% extends %}`` load other templates (suspicious).

A template Jinja cannot parse cannot be rendered by Jinja either; it is noted, and the old
text patterns still run over it as a backstop.
"""

from __future__ import annotations

import itertools
import re

MAX_TEMPLATE = 1 << 20  # real chat templates are a few KB; tool-use ones up to ~100 KB
MAX_VALUES = 64  # folded candidate values per expression
MAX_NODES = 200_000

# Jinja's own globals (and ``self``): no chat template reads attributes of these objects
GADGET_GLOBALS = {"lipsum", "cycler", "joiner", "namespace", "range", "dict", "self"}
STRING_FILTERS = {
    "join",
    "format",
    "replace",
    "reverse",
    "lower",
    "upper",
    "string",
    "first",
    "last",
    "attr",
    "trim",
    "title",
    "capitalize",
}
DANGEROUS_NAMES = {"os", "subprocess", "builtins", "sys", "importlib", "posix", "nt", "pty"}
EXEC_ATTRS = {
    "popen",
    "system",
    "eval",
    "exec",
    "import_module",
    "check_output",
    "check_call",
    "getoutput",
    "getstatusoutput",
    "Popen",
    "spawnl",
    "spawnv",
    "execv",
    "execve",
    "execl",
    "load_module",
    "exec_module",
}
ATTR_ARG_FILTERS = {
    "map",
    "selectattr",
    "rejectattr",
    "groupby",
    "sort",
    "sum",
    "unique",
    "min",
    "max",
    "dictsort",
}
_STR_METHODS = {
    "join",
    "format",
    "format_map",
    "replace",
    "translate",
    "swapcase",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "upper",
    "lower",
    "title",
    "capitalize",
}
_FIELD = re.compile(r"\{[^{}]*[.\[][^{}]*\}")


def _env():
    from jinja2 import Environment, nodes
    from jinja2.ext import Extension

    class Generation(Extension):
        """Hugging Face's ``{% generation %}...{% endgeneration %}`` (AssistantTracker)."""

        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.Scope(body, lineno=lineno)

    return Environment(extensions=["jinja2.ext.loopcontrols", "jinja2.ext.do", Generation])


_ENV = None


class TemplateFinding:
    __slots__ = ("severity", "reason")

    def __init__(self, severity: str, reason: str):
        self.severity = severity
        self.reason = reason


def check_template(src: str) -> tuple[list[TemplateFinding], str | None]:
    """(findings, parse problem or None). Never renders, compiles or evaluates ``src``."""
    global _ENV
    if len(src) > MAX_TEMPLATE:
        return [
            TemplateFinding(
                "medium",
                f"template of {len(src):,} characters, far beyond any real chat template; not "
                "parsed",
            )
        ], None
    try:
        from jinja2 import TemplateSyntaxError
    except ImportError:  # pragma: no cover - jinja2 is a dependency
        return [], "jinja2 is not installed"
    if _ENV is None:
        _ENV = _env()
    try:
        tree = _ENV.parse(src)
    except TemplateSyntaxError as exc:
        return [], f"does not parse as a Jinja template ({exc.message}, line {exc.lineno})"
    except RecursionError:
        return [
            TemplateFinding("medium", "template nested too deeply to judge (parser recursion)")
        ], None
    except Exception as exc:  # the lexer / parser on hostile input
        return [], f"does not parse as a Jinja template ({type(exc).__name__})"
    return _Judge(tree).run(), None


class _Judge:
    def __init__(self, tree):
        from jinja2 import nodes

        self.n = nodes
        self.tree = tree
        self.symbols: dict[str, list] = {}
        self.found: dict[str, TemplateFinding] = {}

    # -- findings ----------------------------------------------------------------------------
    def flag(self, severity: str, reason: str) -> None:
        if reason not in self.found:
            self.found[reason] = TemplateFinding(severity, reason)

    def private(self, name: str, how: str) -> None:
        if name.startswith("__") or "__" in name[1:]:
            self.flag("critical", f"{how} '{name}' walks Python object internals")
        else:
            self.flag("high", f"{how} private attribute '{name}' (refused by the sandbox)")

    # -- constant folding --------------------------------------------------------------------
    def values(self, node, depth: int = 0) -> list | None:
        """Possible values of an expression built from literals, or None if unknown."""
        n = self.n
        if depth > 30:
            return None
        if isinstance(node, n.Const):
            return [node.value] if isinstance(node.value, str | int | float) else None
        if isinstance(node, n.Name):
            return self.symbols.get(node.name)
        if isinstance(node, n.List | n.Tuple):
            parts = [self.values(i, depth + 1) for i in node.items]
            if any(p is None for p in parts):
                return None
            return self._product(parts, tuple)
        if isinstance(node, n.Concat):
            parts = [self.values(i, depth + 1) for i in node.nodes]
            if any(p is None for p in parts):
                return None
            return self._product(parts, lambda t: "".join(str(x) for x in t))
        if isinstance(node, n.Add | n.Mul | n.Mod):
            a, b = self.values(node.left, depth + 1), self.values(node.right, depth + 1)
            if a is None or b is None:
                return None
            op = {n.Add: "+", n.Mul: "*", n.Mod: "%"}[type(node)]
            return self._binop(a, b, op)
        if isinstance(node, n.CondExpr):
            a = self.values(node.expr1, depth + 1)
            b = self.values(node.expr2, depth + 1) if node.expr2 is not None else [""]
            return None if a is None or b is None else (a + b)[:MAX_VALUES]
        if isinstance(node, n.Filter) and node.node is not None:
            return self._filter(node, depth)
        return None

    def _product(self, parts, join) -> list | None:
        out = []
        for combo in itertools.islice(itertools.product(*parts), MAX_VALUES):
            try:
                out.append(join(combo))
            except Exception:
                return None
        return out

    def _binop(self, a, b, op) -> list | None:
        out = []
        for x, y in itertools.islice(itertools.product(a, b), MAX_VALUES):
            try:
                if op == "+":
                    v = x + y
                elif op == "*":
                    if isinstance(x, str) and isinstance(y, int) and 0 <= y <= 64:
                        v = x * y
                    elif isinstance(y, str) and isinstance(x, int) and 0 <= x <= 64:
                        v = y * x
                    elif isinstance(x, int | float) and isinstance(y, int | float):
                        v = x * y
                    else:
                        return None
                else:
                    v = _percent(x, y)
            except Exception:
                return None
            out.append(v)
        return out

    def _filter(self, node, depth) -> list | None:
        base = self.values(node.node, depth + 1)
        if base is None:
            return None
        args = [self.values(a, depth + 1) for a in node.args]
        if any(a is None for a in args):
            return None
        name = node.name
        out = []
        for v in base[:MAX_VALUES]:
            for combo in itertools.islice(itertools.product(*args), MAX_VALUES):
                try:
                    r = _apply_filter(name, v, combo)
                except Exception:
                    return None
                if r is _UNKNOWN:
                    return None
                out.append(r)
        return out[:MAX_VALUES]

    # -- the walk ----------------------------------------------------------------------------
    def run(self) -> list[TemplateFinding]:
        n = self.n
        all_nodes = []
        stack = [self.tree]
        while stack and len(all_nodes) < MAX_NODES:
            node = stack.pop()
            all_nodes.append(node)
            stack.extend(node.iter_child_nodes())
        if stack:
            self.flag("medium", "template too large to judge completely")
        # symbols: {% set x = ... %}, {% set x %}...{% endset %}, {% for x in [literals] %}
        for _ in range(2):
            for node in all_nodes:
                if isinstance(node, n.Assign) and isinstance(node.target, n.Name):
                    v = self.values(node.node)
                    if v is not None:
                        self._bind(node.target.name, v)
                elif isinstance(node, n.AssignBlock) and isinstance(node.target, n.Name):
                    if all(isinstance(b, n.Output) for b in node.body):
                        parts = [self.values(x) for b in node.body for x in b.nodes]
                        if all(p is not None for p in parts):
                            joined = self._product(parts, lambda t: "".join(str(x) for x in t))
                            if joined:
                                self._bind(node.target.name, joined)
                elif isinstance(node, n.For) and isinstance(node.target, n.Name):
                    seq = self.values(node.iter)
                    if seq is not None:
                        items = [x for s in seq for x in (s if isinstance(s, tuple) else (s,))]
                        self._bind(node.target.name, items)
        for node in all_nodes:
            self._node(node)
        return list(self.found.values())

    def _bind(self, name: str, vals: list) -> None:
        cur = self.symbols.setdefault(name, [])
        for v in vals:
            if v not in cur and len(cur) < MAX_VALUES:
                cur.append(v)

    def _names(self, node) -> list[str] | None:
        vals = self.values(node)
        if vals is None:
            return None
        return [v for v in vals if isinstance(v, str)]

    def _attr_name(self, node, how: str) -> None:
        names = self._names(node)
        if names is None:
            self.flag(
                "high",
                f"{how} with a name computed at render time (a way to hide '__class__' and the like)",
            )
            return
        for name in names:
            for part in name.split("."):
                if part.startswith("_"):
                    self.private(part, how)

    def _node(self, node) -> None:
        n = self.n
        if isinstance(node, n.Getattr):
            if node.attr.startswith("_"):
                self.private(node.attr, "attribute")
            base = node.node
            if isinstance(base, n.Name):
                if base.name in GADGET_GLOBALS:
                    self.flag("high", f"reaches into the Jinja global '{base.name}'")
                if base.name in DANGEROUS_NAMES:
                    self.flag("critical", f"uses the module '{base.name}'")
        elif isinstance(node, n.Getitem):
            key = node.arg
            if not isinstance(key, n.Slice):
                names = self._names(key)
                if names is None:
                    if self._stringy(key):
                        self.flag("high", "subscript with a key built from strings at render time")
                else:
                    for name in names:
                        if name.startswith("_"):
                            self.private(name, "subscript")
            if isinstance(node.node, n.Name) and node.node.name in GADGET_GLOBALS:
                self.flag("high", f"reaches into the Jinja global '{node.node.name}'")
        elif isinstance(node, n.Filter):
            if node.name == "attr":
                if node.args:
                    self._attr_name(node.args[0], "attr filter")
                else:
                    self.flag("high", "attr filter without a literal name")
            elif node.name in ATTR_ARG_FILTERS:
                self._filter_attr_args(node)
        elif isinstance(node, n.Call):
            for kw in node.kwargs:
                if kw.key.startswith("_"):
                    self.private(kw.key, "keyword argument")
            f = node.node
            if isinstance(f, n.Getattr):
                if f.attr in EXEC_ATTRS:
                    self.flag("critical", f"calls the execution primitive '{f.attr}'")
                if f.attr in ("format", "format_map"):
                    fmt = self._names(f.node)
                    if fmt is None:
                        self.flag("high", "str.format on a format string built at render time")
                    elif any(_FIELD.search(s) for s in fmt):
                        self.flag(
                            "critical",
                            "str.format with a field that reaches attributes or items "
                            "('{0.__class__}' style sandbox escape)",
                        )
        elif isinstance(node, n.Name):
            if node.name.startswith("__"):
                self.flag("critical", f"uses the interpreter name '{node.name}'")
        elif isinstance(node, n.Include | n.Import | n.FromImport | n.Extends):
            self.flag("medium", f"loads another template ({type(node).__name__.lower()})")

    def _stringy(self, node) -> bool:
        """Whether an expression builds a string (a key) rather than reading or counting."""
        n = self.n
        stack = [node]
        while stack:
            x = stack.pop()
            if isinstance(x, n.Concat):
                return True
            if isinstance(x, n.Filter) and x.name in STRING_FILTERS:
                return True
            if isinstance(x, n.Const) and isinstance(x.value, str):
                return True
            if (
                isinstance(x, n.Call)
                and isinstance(x.node, n.Getattr)
                and x.node.attr in _STR_METHODS
            ):
                return True  # '...'.join(...), .format(...), .replace(...)
            if isinstance(x, n.Add | n.Sub | n.Mul | n.Mod | n.Neg | n.Pos | n.CondExpr):
                stack.extend(x.iter_child_nodes())
        return False

    def _filter_attr_args(self, node) -> None:
        n = self.n
        for kw in node.kwargs:
            if kw.key == "attribute":
                self._attr_name(kw.value, f"{node.name} filter attribute")
        args = node.args
        if node.name in ("selectattr", "rejectattr", "groupby") and args:
            self._attr_name(args[0], f"{node.name} filter")
        if node.name == "map" and args:
            first = self._names(args[0])
            if first is None or "attr" in first:
                if len(args) > 1:
                    self._attr_name(args[1], "map('attr') filter")
                elif first is None and not isinstance(args[0], n.Const):
                    self.flag("high", "map filter with a filter name computed at render time")


class _Unknown:
    pass


_UNKNOWN = _Unknown()


def _percent(fmt, args):
    if not isinstance(fmt, str) or len(fmt) > 4096:
        raise ValueError("not a literal format")
    if isinstance(args, tuple):
        if not all(isinstance(a, str | int | float) for a in args):
            raise ValueError("non-literal argument")
    elif not isinstance(args, str | int | float):
        raise ValueError("non-literal argument")
    return fmt % args


def _apply_filter(name: str, v, args: tuple):
    """The pure string filters, applied to literals only."""
    if name == "format":
        return _percent(v, tuple(args))
    if name == "join":
        sep = args[0] if args else ""
        if isinstance(v, tuple | str) and isinstance(sep, str):
            return sep.join(str(x) for x in v)
        return _UNKNOWN
    if name in ("first", "last"):
        if isinstance(v, tuple | str) and v:
            return v[0] if name == "first" else v[-1]
        return _UNKNOWN
    if name == "list":
        return tuple(v) if isinstance(v, tuple | str) else _UNKNOWN
    if not isinstance(v, str):
        return str(v) if name == "string" else _UNKNOWN
    if name == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        return v.replace(args[0], args[1])
    simple = {
        "lower": str.lower,
        "upper": str.upper,
        "reverse": lambda s: s[::-1],
        "string": str,
        "trim": str.strip,
        "title": str.title,
        "capitalize": str.capitalize,
        "e": str,
        "escape": str,
        "safe": str,
    }
    fn = simple.get(name)
    return fn(v) if fn else _UNKNOWN
