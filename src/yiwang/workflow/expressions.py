"""A restricted expression engine for BPMN conditions.

SpiffWorkflow evaluates gateway conditions and scripts with Python's ``eval``/``exec``;
administrators upload diagrams, so that would run their code on the server. Here a condition
may only compare task data with constants: names, literals, comparisons, ``and``/``or``/``not``,
``in``, arithmetic and subscripts of task data. Script tasks are refused outright.

Camunda, Flowable and Activiti write conditions in Java EL (``${approved}``, ``${!approved}``,
``${amount > 1000 && kind == 'a'}``); such a condition is read as the same restricted
expression (``from_el``), so a diagram drawn in those tools keeps its simple conditions, and
anything beyond them (method calls, beans) is refused like any other code.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment


class UnsafeExpression(ValueError):
    pass


_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_CMP = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
MAX_LENGTH = 500

_EL_TOKENS = re.compile(
    r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(&&|\|\||!(?!=)|\b(?:eq|ne|lt|gt|le|ge|and|or|not|true|false|null|empty)\b)"""
)
_EL_WORDS = {
    "&&": " and ",
    "||": " or ",
    "!": " not ",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
    "and": " and ",
    "or": " or ",
    "not": " not ",
    "true": "True",
    "false": "False",
    "null": "None",
    "empty": " not ",
}


def from_el(expression: str) -> str:
    """The restricted expression of a Java EL condition (``${...}`` or ``#{...}``); any other
    text unchanged. String literals are kept as they are."""
    text = expression.strip()
    if not (text.startswith(("${", "#{")) and text.endswith("}")):
        return expression
    body = text[2:-1]

    def word(match: re.Match) -> str:
        return match.group(1) if match.group(1) else _EL_WORDS[match.group(2)]

    return _EL_TOKENS.sub(word, body).strip()


def _eval(node: ast.AST, names: dict[str, Any]) -> Any:
    match node:
        case ast.Expression(body=body):
            return _eval(body, names)
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[name]
            if name.startswith("_"):
                raise UnsafeExpression(name)
            return names.get(name)
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, names) for v in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(_eval(v, names) for v in values)
        case ast.UnaryOp(op=ast.Not(), operand=operand):
            return not _eval(operand, names)
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_eval(operand, names)
        case ast.BinOp(left=left, op=op, right=right) if type(op) in _BIN:
            return _BIN[type(op)](_eval(left, names), _eval(right, names))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            current = _eval(left, names)
            for cmp, comp in zip(ops, comparators, strict=True):
                if type(cmp) not in _CMP:
                    raise UnsafeExpression(type(cmp).__name__)
                right = _eval(comp, names)
                if not _CMP[type(cmp)](current, right):
                    return False
                current = right
            return True
        case ast.Subscript(value=value, slice=index):
            container = _eval(value, names)
            key = _eval(index, names)
            if isinstance(container, dict):
                return container.get(key)
            if isinstance(container, list | tuple | str):
                return container[key]
            return None
        case ast.List(elts=elts) | ast.Tuple(elts=elts) | ast.Set(elts=elts):
            return [_eval(e, names) for e in elts]
    raise UnsafeExpression(type(node).__name__)


def check_expression(expression: str) -> None:
    """Raise UnsafeExpression (or SyntaxError) if the expression uses anything not allowed."""
    if len(expression) > MAX_LENGTH:
        raise UnsafeExpression("too long")
    tree = ast.parse(from_el(expression).strip(), mode="eval")
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Call | ast.Attribute | ast.Lambda | ast.comprehension | ast.NamedExpr | ast.Starred
        ):
            raise UnsafeExpression(type(node).__name__)


def evaluate(expression: str, data: dict[str, Any]) -> Any:
    check_expression(expression)
    return _eval(ast.parse(from_el(expression).strip(), mode="eval"), data)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    def evaluate(self, expression, context, external_context=None):
        names = dict(context)
        names.update(external_context or {})
        return evaluate(expression, names)

    def execute(self, script, context, external_context=None):
        raise UnsafeExpression("script tasks are not allowed in yiwang processes")

    def call_service(self, context, **kwargs):
        raise UnsafeExpression("service tasks are not allowed in yiwang processes")


class RestrictedScriptEngine(PythonScriptEngine):
    def __init__(self) -> None:
        super().__init__(environment=RestrictedEnvironment())

    def validate(self, expression):
        check_expression(expression)
