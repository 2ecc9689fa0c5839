"""Who a note may mention: people who can read the conversation, and nobody else."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import Role, SiteKind
from opencx.core.notes import unable_to_read
from opencx.core.permissions import Principal

LYON, DAKAR, PORTO = 1, 2, 3


def test_mentioned_people_must_see_the_conversations_site() -> None:
    readers = {
        10: Principal(user_id=10, role=Role.AGENT, site_id=LYON),  # internal: every site
        11: Principal(user_id=11, role=Role.AGENT, site_id=DAKAR, site_kind=SiteKind.PARTNER),
        12: Principal(
            user_id=12,
            role=Role.SUPERVISOR,
            site_id=PORTO,
            site_kind=SiteKind.PARTNER,
            granted_site_ids=frozenset({DAKAR}),
        ),
        13: None,  # deactivated, or no such user
    }
    assert unable_to_read(readers, DAKAR) == [13]
    assert unable_to_read(readers, LYON) == [11, 12, 13]
    assert unable_to_read(readers, None) == [11, 12, 13]  # a site-less conversation
    assert unable_to_read({}, LYON) == []


_PRINCIPALS = st.builds(
    Principal,
    user_id=st.integers(1, 50),
    role=st.sampled_from(list(Role)),
    site_id=st.sampled_from([None, LYON, DAKAR, PORTO]),
    site_kind=st.sampled_from([None, SiteKind.INTERNAL, SiteKind.PARTNER]),
    granted_site_ids=st.frozensets(st.sampled_from([LYON, DAKAR, PORTO])),
)


@given(
    readers=st.dictionaries(st.integers(1, 50), st.none() | _PRINCIPALS, max_size=6),
    site_id=st.sampled_from([None, LYON, DAKAR, PORTO]),
)
def test_those_left_out_are_exactly_those_who_cannot_see_the_site(
    readers: dict[int, Principal | None], site_id: int | None
) -> None:
    unable = unable_to_read(readers, site_id)
    assert unable == sorted(unable)
    for user_id, reader in readers.items():
        sees = reader is not None and reader.sees_site(site_id)
        assert (user_id in unable) is not sees
