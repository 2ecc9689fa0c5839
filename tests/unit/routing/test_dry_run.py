"""The dry run: where a contact arriving now would go under a draft workflow, and why,
decided by the router itself on a copy of the state."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from opencx.core.enums import PresenceState
from opencx.core.routing.dry_run import Hypothesis, dry_run
from opencx.core.routing.model import FallbackAction, Filter, Target, TaskSpec, Workflow
from opencx.core.routing.router import Router
from tests.unit.routing.builders import AVAILABLE, CHAT, VOICE, queue, task_expr, worker
from tests.unit.routing.builders import one_queue_router as router_of

QUEUES = (queue(1), queue(2, "skills.vip >= 1"))


def french_vip_first(*, fallback: FallbackAction = FallbackAction.VOICEMAIL) -> Workflow:
    return Workflow(
        filters=(
            Filter("French VIP", task_expr('lang == "fr" AND vip'), (Target(queue_id=2),)),
            Filter("Chat", task_expr('channel == "chat"'), (Target(queue_id=1),)),
        ),
        fallback=fallback,
    )


def floor() -> Any:
    """Two queues; Ada (VIP-skilled, chat) available, Bob (chat) not ready, Cy (voice only)."""
    router = router_of(*QUEUES)
    router.add_worker(
        worker(1, voice=0, chat=2, vip=1, skills={"vip": 1}), presence=AVAILABLE, now=0
    )
    router.add_worker(worker(2, voice=0, chat=2), presence=PresenceState.NOT_READY, now=0)
    router.add_worker(worker(3, voice=1), presence=AVAILABLE, now=0)
    return router.snapshot()


def test_the_first_matching_filter_routes_and_the_free_agent_would_be_offered() -> None:
    found = dry_run(
        floor(), french_vip_first(), Hypothesis(CHAT, {"lang": "fr", "vip": True}), now=10
    )

    assert (found.filter_index, found.filter_name, found.filters_not_matched) == (
        0,
        "French VIP",
        (),
    )
    assert (found.queue_id, found.step_index, found.fallback) == (2, 0, None)
    assert found.offered_to == 1
    verdicts = {c.worker_id: c.reason for c in found.candidates}
    assert verdicts == {
        1: None,
        2: "is not_ready",
        3: "does not match the target of queue q2",
    }


def test_the_filters_passed_over_are_named_and_a_busy_floor_means_waiting() -> None:
    snapshot = floor()
    found = dry_run(snapshot, french_vip_first(), Hypothesis(CHAT, {"lang": "en"}), now=10)

    assert found.filter_name == "Chat"
    assert found.filters_not_matched == ("French VIP",)
    assert found.queue_id == 1
    assert found.offered_to == 1  # Ada serves the chat queue too


def test_no_matching_filter_answers_with_the_workflows_fallback() -> None:
    found = dry_run(
        floor(),
        french_vip_first(fallback=FallbackAction.CALLBACK),
        Hypothesis(VOICE, {"lang": "en"}),
        now=10,
    )

    assert found.filter_index is None
    assert found.filters_not_matched == ("French VIP", "Chat")
    assert found.fallback is FallbackAction.CALLBACK
    assert found.fallback_reason == "no workflow filter matches the task"
    assert (found.queue_id, found.offered_to, found.candidates) == (None, None, ())


def test_the_contact_waits_behind_the_tasks_already_routed() -> None:
    router = Router(workflow=french_vip_first(), queues=QUEUES)
    for task_id in (7, 8):  # nobody logged in: they wait
        router.submit(TaskSpec(task_id, CHAT, float(task_id), {"channel": "chat"}), now=task_id)

    found = dry_run(router.snapshot(), french_vip_first(), Hypothesis(CHAT), now=20)

    assert (found.queue_id, found.position, found.offered_to) == (1, 3, None)


def test_the_channel_attribute_is_the_contacts_channel_whatever_was_given() -> None:
    found = dry_run(floor(), french_vip_first(), Hypothesis(VOICE, {"channel": "chat"}), now=1)

    assert found.filter_index is None  # a voice call is not taken by the chat filter


@given(
    lang=st.sampled_from(["fr", "en", "de", None]),
    vip=st.sampled_from([True, False, None, 1]),
    chat=st.booleans(),
)
def test_a_dry_run_changes_nothing_and_agrees_with_the_filters(
    lang: str | None, vip: Any, chat: bool
) -> None:
    snapshot = floor()
    workflow = french_vip_first()
    attributes = {k: v for k, v in (("lang", lang), ("vip", vip)) if v is not None}
    contact = Hypothesis(CHAT if chat else VOICE, attributes)

    found = dry_run(snapshot, workflow, contact, now=10)

    assert snapshot == floor()  # the state asked about is left as it was
    full = {**attributes, "channel": contact.channel.value}
    expected = next(
        (i for i, f in enumerate(workflow.filters) if f.expression.evaluate(full)), None
    )
    assert found.filter_index == expected
    assert (found.fallback is None) == (expected is not None)
    if found.offered_to is not None:
        offered = [c.eligible for c in found.candidates if c.worker_id == found.offered_to]
        assert offered == [True]
    assert found == dry_run(snapshot, workflow, contact, now=10)  # deterministic


def test_each_verdict_carries_a_code_and_the_words_of_why_not() -> None:
    found = dry_run(
        floor(), french_vip_first(), Hypothesis(CHAT, {"lang": "fr", "vip": True}), now=10
    )

    codes = {
        c.worker_id: (c.verdict.code, dict(c.verdict.params)) if c.verdict else None
        for c in found.candidates
    }
    assert codes == {
        1: None,
        2: ("presence", {"presence": "not_ready"}),
        3: ("queue_target", {"queue": "q2"}),
    }
    for candidate in found.candidates:
        assert candidate.reason == (candidate.verdict.text if candidate.verdict else None)
