"""The demo's living traffic is a pure, seeded plan: visits on every written channel at
the configured rate, with texts in the customer's language, and human-paced agents."""

from __future__ import annotations

import statistics

from opencx.cli.demo_data import REASONS
from opencx.core.enums import Channel
from opencx.simulation.demo_traffic import TOPICS, WRITTEN_CHANNELS, DemoTraffic, Pace


def test_the_same_seed_gives_the_same_visits_and_turns() -> None:
    first, second = DemoTraffic(seed=3), DemoTraffic(seed=3)
    for _ in range(50):
        assert first.next_visit() == second.next_visit()
        assert first.agent_turn(Channel.CHAT) == second.agent_turn(Channel.CHAT)
    assert DemoTraffic(seed=4).next_visit() != DemoTraffic(seed=3).next_visit()


def test_contacts_arrive_on_every_written_channel_at_the_configured_rate() -> None:
    traffic = DemoTraffic(seed=1, pace=Pace(contacts_per_minute=3.0))
    gaps, channels = [], []
    for _ in range(5000):
        gap, visit = traffic.next_visit()
        gaps.append(gap)
        channels.append(visit.channel)
    per_minute_per_channel = 60 / statistics.mean(gaps) / len(WRITTEN_CHANNELS)
    assert 2.8 < per_minute_per_channel < 3.2
    assert set(channels) == {
        Channel.CHAT,
        Channel.EMAIL,
        Channel.SMS,
        Channel.WHATSAPP,
        Channel.MESSENGER,
    }
    assert min(channels.count(c) for c in WRITTEN_CHANNELS) > 800
    assert [v.number for v in (traffic.visit(Channel.SMS), traffic.visit(Channel.SMS))] == [
        5001,
        5002,
    ]


def test_a_visit_speaks_the_customers_language_and_follows_up_later() -> None:
    traffic = DemoTraffic(seed=9)
    visits = [traffic.next_visit()[1] for _ in range(200)]
    french = next(v for v in visits if v.language == "fr")
    english = next(v for v in visits if v.language == "en")
    assert french.opening == french.topic.opening.fr
    assert english.opening == english.topic.opening.en
    assert french.subject == french.topic.subject.fr
    assert english.follow_up == english.topic.follow_up.en
    answer = DemoTraffic.answer(french)
    assert answer.startswith(f"Bonjour {french.first_name},")
    assert DemoTraffic.answer(english).startswith(("Hello", "Hi"))
    assert all(20 <= v.follow_up_after <= 60 for v in visits)
    assert {v.language for v in visits} == {"fr", "en"}


def test_every_topic_is_coded_with_the_demos_reasons_and_reads_in_both_languages() -> None:
    seeded = {(reason.axis, reason.code) for reason in REASONS}
    for topic in TOPICS:
        axes = zip(("declaration", "qualification", "action"), topic.reasons, strict=True)
        assert set(axes) <= seeded
        for line in (topic.subject, topic.opening, topic.follow_up, topic.answer):
            assert line.en
            assert line.fr != line.en
        assert "{first}" in topic.answer.en
        assert "{first}" in topic.answer.fr


def test_agents_take_human_time_and_sometimes_a_break() -> None:
    traffic = DemoTraffic(seed=5)
    turns = [traffic.agent_turn(Channel.EMAIL) for _ in range(2000)]
    assert all(3 <= t.accept_after <= 12 for t in turns)
    assert all(t.handle_seconds > t.answer_after for t in turns)
    assert 200 < statistics.mean(t.handle_seconds for t in turns) < 280  # e-mail: 240 s
    breaks = [t.break_seconds for t in turns if t.break_seconds is not None]
    assert 0.05 < len(breaks) / len(turns) < 0.11


def test_the_customers_stream_does_not_depend_on_how_the_agents_work() -> None:
    quiet, busy = DemoTraffic(seed=8), DemoTraffic(seed=8)
    for _ in range(20):
        busy.agent_turn(Channel.SMS)
        assert quiet.next_visit() == busy.next_visit()
