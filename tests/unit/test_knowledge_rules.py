"""Who sees and manages the toolbox (``core.knowledge``), and canned responses' templates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import Role, SiteKind
from opencx.core.errors import InvalidInput
from opencx.core.knowledge import (
    Audience,
    CannedScope,
    SourceKind,
    Viewer,
    may_manage,
    may_see,
    scope_key,
)
from opencx.core.permissions import Principal
from opencx.features.knowledge.rendering import case_variables, check_template, render

SITES = st.one_of(st.none(), st.integers(1, 3))
VIEWERS = st.builds(
    Viewer,
    principal=st.builds(
        Principal,
        user_id=st.integers(1, 3),
        role=st.sampled_from(Role),
        site_id=SITES,
        site_kind=st.one_of(st.none(), st.sampled_from(SiteKind)),
        granted_site_ids=st.frozensets(st.integers(1, 3), max_size=2),
    ),
    team_id=st.one_of(st.none(), st.integers(1, 2)),
)
AUDIENCES = st.builds(
    Audience,
    kind=st.sampled_from(SourceKind),
    site_id=SITES,
    scope=st.one_of(st.none(), st.sampled_from(CannedScope)),
    team_id=st.one_of(st.none(), st.integers(1, 2)),
    owner_id=st.one_of(st.none(), st.integers(1, 3)),
    published=st.booleans(),
)


@given(VIEWERS, AUDIENCES)
def test_what_one_manages_one_sees(viewer: Viewer, audience: Audience) -> None:
    if audience.kind is not SourceKind.PAST_ANSWER and may_manage(viewer, audience):
        assert may_see(viewer, audience)


@given(VIEWERS, AUDIENCES)
def test_a_partner_user_sees_nothing_of_a_site_they_do_not_see(
    viewer: Viewer, audience: Audience
) -> None:
    principal = viewer.principal
    if principal.role is not Role.ADMIN and principal.site_kind is SiteKind.PARTNER:
        if audience.site_id is not None and not principal.sees_site(audience.site_id):
            assert not may_see(viewer, audience)
        if audience.kind is SourceKind.PAST_ANSWER and audience.site_id is None:
            assert not may_see(viewer, audience)  # as for any conversation without a site
        if audience.site_id is None:
            assert not may_manage(viewer, audience)  # the company's content is not theirs


def test_scopes_reach_the_team_and_the_owner_only() -> None:
    agent = Viewer(Principal(user_id=7, role=Role.AGENT), team_id=2)
    team = Audience(SourceKind.CANNED, scope=CannedScope.TEAM, team_id=2)
    other_team = Audience(SourceKind.CANNED, scope=CannedScope.TEAM, team_id=3)
    mine = Audience(SourceKind.CANNED, scope=CannedScope.PERSONAL, owner_id=7)
    theirs = Audience(SourceKind.CANNED, scope=CannedScope.PERSONAL, owner_id=8)
    company = Audience(SourceKind.CANNED, scope=CannedScope.COMPANY)
    assert [may_see(agent, a) for a in (team, other_team, mine, theirs, company)] == [
        True,
        False,
        True,
        False,
        True,
    ]
    assert [may_manage(agent, a) for a in (team, mine, company)] == [False, True, False]
    supervisor = Viewer(Principal(user_id=9, role=Role.SUPERVISOR), team_id=2)
    assert [may_manage(supervisor, a) for a in (team, other_team, company)] == [
        True,
        False,
        False,
    ]
    assert scope_key(CannedScope.TEAM, team_id=2, owner_id=None) == "team:2"
    assert scope_key(CannedScope.PERSONAL, team_id=None, owner_id=7) == "user:7"


def test_drafts_are_for_writers() -> None:
    draft = Audience(SourceKind.ARTICLE, published=False)
    agent = Viewer(Principal(user_id=1, role=Role.AGENT))
    supervisor = Viewer(Principal(user_id=2, role=Role.SUPERVISOR))
    assert not may_see(agent, draft)
    assert may_see(supervisor, draft)


VARIABLES = case_variables(
    customer_name="Marie Dubois",
    customer_attributes={"first_name": "Marie-Anne"},
    customer_email=None,
    agent_name="Ada Agent",
    conversation_id=42,
    subject="Remboursement",
)


def test_variables_are_filled_and_unknown_ones_are_empty() -> None:
    body = (
        "{{ customer.first_name }} {{ customer.last_name|upper }} #{{ case.number }} "
        "{{ agent.first_name }}{{ customer.email }}{{ nobody.knows.this }}"
        "{% if customer.email %} mail{% else %} no mail{% endif %}"
    )
    assert render(body, VARIABLES) == "Marie-Anne DUBOIS #42 Ada no mail"


@pytest.mark.parametrize(
    "body",
    [
        "{% for x in 'ab' %}{{ x }}{% endfor %}",
        "{{ customer.name * 3 }}",
        "{{ customer.name.upper() }}",
        "{{ customer.name|wordwrap(1) }}",
        "{% macro m() %}{% endmacro %}",
        "{% include 'x' %}",
        "{{ customer.__class__ }}",
        "{{ customer.name }",
    ],
)
def test_anything_but_variables_ifs_and_simple_filters_is_refused(body: str) -> None:
    with pytest.raises(ValueError, match=r"not allowed|not a valid template|not variables"):
        check_template(body)
    with pytest.raises(InvalidInput):
        render(body, VARIABLES)
