"""A canned response's text: Jinja2 variables filled in for one conversation.

Rules:
- a body is plain text with ``{{ variables }}``, ``{% if %}`` blocks and a few filters
  (``VARIABLES`` and ``FILTERS`` list them); loops, calls, arithmetic, assignments,
  macros and includes are refused when the response is saved, so rendering one costs
  about the length of its text and cannot be made to use memory or time;
- an unknown variable renders as nothing, not as an error (``{{ customer.nickname }}``);
- rendering runs in Jinja2's sandboxed environment, over plain strings only;
- the output is plain text, not HTML: whoever shows it in a page escapes it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from jinja2 import ChainableUndefined, Template, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from opencx.core.errors import InvalidInput

__all__ = [
    "FILTERS",
    "VARIABLES",
    "Variables",
    "case_variables",
    "check_template",
    "render",
    "without_markup",
]

#: What a body may name, as documented; any other name renders empty.
VARIABLES = (
    "customer.name",
    "customer.first_name",
    "customer.last_name",
    "customer.email",
    "agent.name",
    "agent.first_name",
    "case.number",
    "case.subject",
)
FILTERS = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim"})
_TESTS = frozenset({"defined", "undefined", "none", "string"})
_ALLOWED = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Const,
    nodes.If,
    nodes.Filter,
    nodes.Test,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.CondExpr,
    nodes.Concat,
)
Variables = Mapping[str, Mapping[str, str]]

_ENV = SandboxedEnvironment(
    undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=True
)


def check_template(body: str) -> str:
    """``body`` if it is a template we render, else ``ValueError`` saying why."""
    try:
        tree = _ENV.parse(body)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise ValueError(f"the text is not a valid template{where}: {exc}") from None
    for node in _walk(tree):
        refusal = _refusal(node)
        if refusal:
            raise ValueError(refusal)
    return body


def _walk(node: nodes.Node) -> list[nodes.Node]:
    found = [node]
    for child in node.iter_child_nodes():
        found.extend(_walk(child))
    return found


def _refusal(node: nodes.Node) -> str | None:
    if not isinstance(node, _ALLOWED):
        return (
            f"{type(node).__name__.lower()} is not allowed in a canned response: use "
            "{{ variables }}, {% if %} blocks and the filters " + ", ".join(sorted(FILTERS))
        )
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"{node.attr!r}: names starting with '_' are not variables"
    if isinstance(node, nodes.Filter) and node.name not in FILTERS:
        return f"the filter {node.name!r} is not allowed (use {', '.join(sorted(FILTERS))})"
    if isinstance(node, nodes.Test) and node.name not in _TESTS:
        return f"the test {node.name!r} is not allowed (use {', '.join(sorted(_TESTS))})"
    return None


@functools.lru_cache(maxsize=512)
def _compiled(body: str) -> Template:
    return _ENV.from_string(check_template(body))


def render(body: str, variables: Variables) -> str:
    """``body`` with ``variables`` filled in; ``InvalidInput`` if it cannot be."""
    try:
        template = _compiled(body)
        text = template.render(variables)
    except (TemplateError, ValueError, TypeError) as exc:
        raise InvalidInput(f"the canned response cannot be rendered: {exc}") from None
    return text


def without_markup(body: str) -> str:
    """The words of a template without its ``{{ }}`` and ``{% %}`` parts, for search."""
    try:
        tree = _ENV.parse(body)
    except TemplateError:
        return body
    return " ".join(node.data for node in tree.find_all(nodes.TemplateData))


def case_variables(
    *,
    customer_name: str,
    customer_attributes: Mapping[str, object],
    customer_email: str | None,
    agent_name: str,
    conversation_id: int,
    subject: str,
) -> dict[str, dict[str, str]]:
    """What a canned response may name, for one conversation and the agent answering.

    A customer's first and last names are their attributes ``first_name`` and
    ``last_name`` where set, else the first word of their name and the rest."""
    first, _, rest = customer_name.strip().partition(" ")
    return {
        "customer": {
            "name": customer_name,
            "first_name": _text(customer_attributes.get("first_name")) or first,
            "last_name": _text(customer_attributes.get("last_name")) or rest.strip(),
            "email": customer_email or "",
        },
        "agent": {"name": agent_name, "first_name": agent_name.strip().partition(" ")[0]},
        "case": {"number": str(conversation_id), "subject": subject},
    }


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
