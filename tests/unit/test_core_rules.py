"""Pure rules: lifecycles, permissions and cursors."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.core.destinations import refusal
from opencx.core.enums import (
    AuthorKind,
    ConversationStatus,
    Direction,
    InteractionState,
    Role,
    SiteKind,
)
from opencx.core.errors import IllegalTransition, InvalidInput, PermissionDenied
from opencx.core.lifecycles import (
    CONVERSATION_TRANSITIONS,
    INTERACTION_STAMPS,
    INTERACTION_TRANSITIONS,
    check_transition,
)
from opencx.core.pagination import decode_cursor, encode_cursor
from opencx.core.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    Principal,
    message_permission,
    require,
)


@given(st.sampled_from(InteractionState), st.sampled_from(InteractionState))
def test_interaction_moves_follow_the_table(
    current: InteractionState, target: InteractionState
) -> None:
    if target in INTERACTION_TRANSITIONS[current]:
        check_transition(INTERACTION_TRANSITIONS, current, target)
    else:
        with pytest.raises(IllegalTransition) as info:
            check_transition(INTERACTION_TRANSITIONS, current, target)
        assert info.value.extra["current"] == current.value


def test_every_state_has_a_row_and_terminal_states_are_final() -> None:
    assert set(INTERACTION_TRANSITIONS) == set(InteractionState)
    assert set(CONVERSATION_TRANSITIONS) == set(ConversationStatus)
    assert not INTERACTION_TRANSITIONS[InteractionState.ENDED]
    assert not INTERACTION_TRANSITIONS[InteractionState.ABANDONED]
    # Every state entered from CREATED by an answered contact is stamped.
    assert INTERACTION_STAMPS[InteractionState.ACTIVE] == "answered_at"


def test_every_state_is_reachable_from_created() -> None:
    seen = {InteractionState.CREATED}
    frontier = [InteractionState.CREATED]
    while frontier:
        for nxt in INTERACTION_TRANSITIONS[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(InteractionState)


def test_roles_are_nested_agent_in_supervisor_in_admin() -> None:
    assert ROLE_PERMISSIONS[Role.AGENT] < ROLE_PERMISSIONS[Role.SUPERVISOR]
    assert ROLE_PERMISSIONS[Role.SUPERVISOR] < ROLE_PERMISSIONS[Role.ADMIN]
    agent = Principal(user_id=1, role=Role.AGENT)
    with pytest.raises(PermissionDenied):
        require(agent, Permission.DIRECTORY_WRITE)
    require(agent, Permission.CONVERSATIONS_READ)


@given(
    role=st.sampled_from(Role),
    kind=st.sampled_from([None, *SiteKind]),
    own=st.integers(1, 5),
    grants=st.frozensets(st.integers(1, 9)),
    other=st.one_of(st.none(), st.integers(1, 9)),
)
def test_only_partner_users_are_confined_to_their_sites(
    role: Role, kind: SiteKind | None, own: int, grants: frozenset[int], other: int | None
) -> None:
    principal = Principal(
        user_id=1, role=role, site_id=own, site_kind=kind, granted_site_ids=grants
    )
    if role is Role.ADMIN or kind is not SiteKind.PARTNER:
        assert principal.sees_site(other)
    else:
        assert principal.sees_site(other) == (
            other is not None and (other == own or other in grants)
        )


@given(st.integers(0, 2**63 - 1))
def test_cursor_round_trips(last_id: int) -> None:
    assert decode_cursor(encode_cursor(last_id)) == last_id


@given(st.text(max_size=40))
def test_a_forged_cursor_never_escapes_as_another_error(cursor: str) -> None:
    with contextlib.suppress(InvalidInput):
        assert decode_cursor(cursor) >= 0


@given(
    direction=st.sampled_from(Direction),
    author=st.sampled_from(AuthorKind),
    provider_id=st.booleans(),
)
def test_only_a_channel_writes_what_a_customer_sent(
    direction: Direction, author: AuthorKind, provider_id: bool
) -> None:
    needed = message_permission(direction=direction, author=author, provider_id=provider_id)
    channel_fact = (
        direction is Direction.INBOUND
        or author in (AuthorKind.CUSTOMER, AuthorKind.SYSTEM)
        or provider_id
    )
    assert needed is (
        Permission.CHANNELS_INGEST if channel_fact else Permission.CONVERSATIONS_WRITE
    )
    assert Principal(1, Role.ADMIN).can(needed)
    assert Principal(1, Role.AGENT).can(needed) is not channel_fact
    assert Principal(1, Role.SUPERVISOR).can(needed) is not channel_fact


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "192.0.2.1",
        "198.18.0.1",
        "240.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::7f00:1",
        "fe80::1%eth0",
        "not an address",
    ],
)
def test_internal_destinations_are_refused(address: str) -> None:
    assert refusal(address) is not None


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "::ffff:8.8.8.8"]
)
def test_public_destinations_pass(address: str) -> None:
    assert refusal(address) is None
