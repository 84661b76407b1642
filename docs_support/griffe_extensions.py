"""Griffe extensions of Belay's API reference (mkdocs.yml's mkdocstrings ``extensions``).

`FieldsInit`: ``__init__`` of attrs classes and pydantic models. Griffe reads the source without
running it, so a class whose ``__init__`` is generated (attrs' ``@define``, a pydantic ``BaseModel``)
has no parameters: the reference would show no signature, and each name in the class docstring's
``Parameters`` would be one that "does not appear in the function signature" (a warning, so a failed
``mkdocs build --strict``). Griffe does this for dataclasses; this extension does the same for the two
kinds Belay uses, from the annotated fields:

- attrs (``attrs.define``, ``frozen``, ``mutable``, ``attr.s``): fields of decorated bases first;
  ``field(default=..., factory=..., init=False, kw_only=True, alias=...)`` and the decorator's
  ``kw_only=True`` are honoured, and a leading underscore is dropped from a parameter's name, as
  attrs does;
- pydantic: every field is a keyword argument; ``Field(default, default_factory=..., alias=...)``.

``ClassVar`` attributes, properties and private pydantic attributes are no parameters.

`ConstantDefaults`: a default written as a module constant shows as its value, as ``help()`` shows it:
``timeout=DEFAULT_TIMEOUT`` as ``timeout=60.0``, and ``stream_out=_UNSET`` (``_UNSET = DEFAULT``) as
``stream_out=DEFAULT``, the public name of the sentinel (whose repr is ``DEFAULT``).
"""

from __future__ import annotations

import ast
from typing import Any, Optional, Union

from griffe import (
    Attribute,
    Class,
    Decorator,
    Expr,
    ExprAttribute,
    ExprCall,
    ExprKeyword,
    ExprName,
    Extension,
    Function,
    Module,
    Parameter,
    ParameterKind,
    Parameters,
)

ATTRS_DECORATORS = {
    f"{module}.{name}"
    for module in ("attrs", "attr")
    for name in ("define", "frozen", "mutable", "attrs", "s", "dataclass")
}
"""Canonical paths of the decorators that make an attrs class."""
ATTRS_FIELDS = {"attrs.field", "attr.field", "attr.ib", "attr.attrib", "attrs.attrib"}
PYDANTIC_MODELS = {"pydantic.BaseModel", "pydantic.main.BaseModel"}
PYDANTIC_FIELDS = {"pydantic.Field", "pydantic.fields.Field"}

Value = Union[str, Expr, None]


def _call(value: Value) -> Optional[ExprCall]:
    if isinstance(value, ExprAttribute):
        value = value.last
    return value if isinstance(value, ExprCall) else None


def _arguments(call: ExprCall) -> tuple[list[Value], dict[str, Value]]:
    positional: list[Value] = []
    keywords: dict[str, Value] = {}
    for argument in call.arguments:
        if isinstance(argument, ExprKeyword):
            keywords[argument.name] = argument.value
        else:
            positional.append(argument)
    return positional, keywords


def _attrs_decorator(class_: Class) -> Optional[Decorator]:
    for decorator in class_.decorators:
        value = decorator.value
        call = _call(value)
        path = (call.function if call else value).canonical_path if isinstance(value, Expr) else value
        if path in ATTRS_DECORATORS:
            return decorator
    return None


def _is_pydantic(class_: Class, seen: frozenset[str] = frozenset()) -> bool:
    for base in class_.bases:
        path = base if isinstance(base, str) else base.canonical_path
        if path in PYDANTIC_MODELS:
            return True
        if path in seen:
            continue
        try:
            parent = class_.modules_collection.get_member(path)
        except Exception:  # not loaded, or not static: not known to be a model
            continue
        if isinstance(parent, Class) and _is_pydantic(parent, seen | {path}):
            return True
    return False


def _fields(class_: Class) -> list[Attribute]:
    """The annotated attributes of ``class_`` itself, in source order, that are not ``ClassVar``s."""
    fields = []
    for member in class_.members.values():
        if member.is_alias or not isinstance(member, Attribute) or member.annotation is None:
            continue
        if "property" in member.labels or (
            "class-attribute" in member.labels and "instance-attribute" not in member.labels
        ):
            continue
        fields.append(member)
    return fields


def _attrs_parameters(class_: Class) -> list[Parameter]:
    decorator = _attrs_decorator(class_)
    call = _call(decorator.value) if decorator else None
    class_kw_only = call is not None and str(_arguments(call)[1].get("kw_only")) == "True"
    parameters = []
    for member in _fields(class_):
        call = _call(member.value)
        options: dict[str, Value] = {}
        if call is not None and call.function.canonical_path in ATTRS_FIELDS:
            options = _arguments(call)[1]
            if str(options.get("init")) == "False":
                continue
            if "factory" in options:
                default: Value = ExprCall(function=options["factory"], arguments=[])
            else:
                default = options.get("default")
        else:
            default = member.value
        kw_only = class_kw_only or str(options.get("kw_only")) == "True"
        name = str(options.get("alias", "")).strip("'\"") or member.name.lstrip("_")
        parameters.append(_parameter(name, member, default, kw_only))
    return parameters


def _pydantic_parameters(class_: Class) -> list[Parameter]:
    parameters = []
    for member in _fields(class_):
        if member.name.startswith("_") or member.name == "model_config":
            continue
        call = _call(member.value)
        default = member.value
        name = member.name
        if call is not None and call.function.canonical_path in PYDANTIC_FIELDS:
            positional, options = _arguments(call)
            if "default_factory" in options:
                default = ExprCall(function=options["default_factory"], arguments=[])
            else:
                default = positional[0] if positional else options.get("default")
            if str(default) == "...":
                default = None
            name = str(options.get("alias", "")).strip("'\"") or name
        parameters.append(_parameter(name, member, default, kw_only=True))
    return parameters


def _parameter(name: str, member: Attribute, default: Value, kw_only: bool) -> Parameter:
    kind = ParameterKind.keyword_only if kw_only else ParameterKind.positional_or_keyword
    return Parameter(name, annotation=member.annotation, kind=kind, default=default, docstring=member.docstring)


def _lineage(class_: Class) -> list[Class]:
    """``class_`` and its loaded bases, the furthest first."""
    try:
        return [*reversed(class_.mro()), class_]
    except ValueError:
        return [class_]


def _set_init(class_: Class) -> None:
    if "__init__" in class_.members:
        return
    if _attrs_decorator(class_) is not None:
        fields = [p for c in _lineage(class_) if _attrs_decorator(c) is not None for p in _attrs_parameters(c)]
    elif _is_pydantic(class_):
        fields = [p for c in _lineage(class_) if _is_pydantic(c) for p in _pydantic_parameters(c)]
    else:
        return
    by_name = {parameter.name: parameter for parameter in fields}  # a redefined field takes its base's place
    ordered = sorted(by_name.values(), key=lambda p: p.kind is ParameterKind.keyword_only)
    self_ = Parameter("self", kind=ParameterKind.positional_or_keyword)
    init = Function("__init__", lineno=0, endlineno=0, parent=class_, parameters=Parameters(self_, *ordered))
    init.returns = "None"
    class_.set_member("__init__", init)


def _walk(obj: Union[Module, Class]) -> None:
    for member in list(obj.members.values()):
        if member.is_alias:
            continue
        if isinstance(member, Class):
            _walk(member)
            _set_init(member)
        elif isinstance(member, Module):
            _walk(member)


class FieldsInit(Extension):
    """Gives attrs classes and pydantic models the ``__init__`` their fields make."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Add the ``__init__`` methods once a package is loaded (its bases are known then)."""
        _walk(pkg)


def _shown_default(default: Value, obj: Function) -> Value:
    """What to show for ``default``: a constant's literal value, or the public name an alias stands for."""
    shown, current = default, default
    for _ in range(10):  # aliases of aliases, within reason
        if not isinstance(current, (ExprName, ExprAttribute)):
            break
        try:
            target = obj.modules_collection.get_member(current.canonical_path)
            if target.is_alias:
                target = target.final_target
        except Exception:  # not loaded, or not static: shown as written
            break
        if not isinstance(target, Attribute) or target.value is None:
            break
        try:
            ast.literal_eval(str(target.value))
        except (ValueError, SyntaxError):
            if not isinstance(target.value, (ExprName, ExprAttribute)):
                break  # a value made at run time (``_Default()``): its name it is
            shown = current = target.value
        else:
            return str(target.value)
    return shown


def _show_defaults(obj: Union[Module, Class, Function]) -> None:
    if isinstance(obj, Function):
        for parameter in obj.parameters:
            parameter.default = _shown_default(parameter.default, obj)
        return
    for member in list(obj.members.values()):
        if not member.is_alias and isinstance(member, (Module, Class, Function)):
            _show_defaults(member)


class ConstantDefaults(Extension):
    """Shows defaults written as module constants as their values (see the module's docstring)."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        """Rewrite the defaults once a package is loaded (after `FieldsInit`, which makes some)."""
        _show_defaults(pkg)
