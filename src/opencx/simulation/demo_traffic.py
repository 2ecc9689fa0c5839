"""The demo's living traffic: who writes, on which channel, when and what; how the
simulated agents answer. Pure: one seeded generator in, plans out.

Rules:
- contacts arrive as one Poisson stream per written channel (web chat, e-mail, SMS,
  WhatsApp, Messenger), each at ``Pace.contacts_per_minute`` on average: the arrival
  model of ``opencx simulate`` (``engine.arrival_gap``);
- a visit is one customer's contact: a name, a language (French or English), a topic
  with its texts in that language, an opening message and one follow-up a little later;
- an agent's turn on a visit: accept after a human delay, answer, hold the contact for
  a handle time drawn like ``opencx simulate``'s (``engine.handle_seconds``,
  log-normal), wrap up with the topic's three reasons, and now and then take a break;
- the same seed gives the same visits and turns, in the same order; visits and turns
  draw from generators of their own, so the customers' stream does not depend on how
  fast the agents work; nothing here reads a clock, the network or a database
  (``opencx.features.demo`` acts them out).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from opencx.core.enums import Channel
from opencx.simulation.engine import arrival_gap, handle_seconds

__all__ = [
    "GENERIC_ANSWER",
    "TOPICS",
    "WRITTEN_CHANNELS",
    "AgentTurn",
    "DemoTraffic",
    "Line",
    "Pace",
    "Topic",
    "Visit",
]

#: The channels simulated customers write on.
WRITTEN_CHANNELS = (Channel.CHAT, Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.MESSENGER)
_LANGUAGES = ("fr", "en")


@dataclass(frozen=True, slots=True)
class Line:
    """A text in English and French."""

    en: str
    fr: str

    def read(self, language: str, **values: str) -> str:
        return (self.fr if language == "fr" else self.en).format(**values)


@dataclass(frozen=True, slots=True)
class Topic:
    """What a customer writes about, and how it is coded: the demo's contact reasons'
    codes on the declaration, qualification and action axes."""

    subject: Line
    opening: Line
    follow_up: Line
    answer: Line
    reasons: tuple[str, str, str]


TOPICS: tuple[Topic, ...] = (
    Topic(
        Line("Device stopped giving alerts", "Mon boîtier ne donne plus d'alertes"),
        Line(
            "Hello, my Vigilo box has not sent any alert since yesterday evening.",
            "Bonjour, mon boîtier Vigilo n'envoie plus aucune alerte depuis hier soir.",
        ),
        Line(
            "The light is orange and blinks slowly, if that helps.",
            "Le voyant est orange et clignote lentement, si ça peut aider.",
        ),
        Line(
            "Hello {first}, I restarted your box remotely: alerts are back. "
            "Tell us if the light stays orange.",
            "Bonjour {first}, j'ai redémarré votre boîtier à distance : les alertes "
            "sont revenues. Dites-nous si le voyant reste orange.",
        ),
        ("device.no_alerts", "device.firmware", "technical.remote_reset"),
    ),
    Topic(
        Line("Charged twice this month", "J'ai été prélevé deux fois ce mois-ci"),
        Line(
            "Hi, I see two payments of 29.90 on my bank statement this month.",
            "Bonjour, je vois deux prélèvements de 29,90 sur mon relevé ce mois-ci.",
        ),
        Line(
            "Both are dated the 5th. Can you refund one of them?",
            "Les deux sont datés du 5. Pouvez-vous en rembourser un ?",
        ),
        Line(
            "Hello {first}, you are right, the second payment was a mistake. "
            "The refund is on its way (3 to 5 days).",
            "Bonjour {first}, vous avez raison, le second prélèvement était une erreur. "
            "Le remboursement est en cours (3 à 5 jours).",
        ),
        ("billing.charged_twice", "payment.duplicate", "commercial.refund"),
    ),
    Topic(
        Line("Cannot sign in to the app", "Je n'arrive pas à me connecter à l'application"),
        Line(
            "The app says my password is wrong, but I have not changed it.",
            "L'application me dit que mon mot de passe est faux, je ne l'ai pas changé.",
        ),
        Line(
            "I tried three times, now it says my account is locked.",
            "J'ai essayé trois fois, maintenant elle dit que mon compte est bloqué.",
        ),
        Line(
            "Hi {first}, I unlocked your account and sent you a link to choose a new password.",
            "Bonjour {first}, j'ai débloqué votre compte et vous ai envoyé un lien pour "
            "choisir un nouveau mot de passe.",
        ),
        ("app.login", "account.locked", "account.password_reset"),
    ),
    Topic(
        Line("Device will not pair", "Mon boîtier ne s'appaire pas"),
        Line(
            "I just received the new sensor and it will not pair with my box.",
            "Je viens de recevoir le nouveau capteur et il ne s'appaire pas avec mon boîtier.",
        ),
        Line(
            "I followed the leaflet, step 4 never ends.",
            "J'ai suivi la notice, l'étape 4 ne se termine jamais.",
        ),
        Line(
            "Hello {first}, hold the pairing button for ten seconds, until the light "
            "turns blue: the sensor then shows in the app.",
            "Bonjour {first}, maintenez le bouton d'appairage dix secondes, jusqu'à ce "
            "que le voyant passe au bleu : le capteur apparaît alors dans l'application.",
        ),
        ("device.not_working", "device.not_paired", "technical.pairing_help"),
    ),
    Topic(
        Line("Wants to cancel", "Je veux résilier mon abonnement"),
        Line(
            "Hello, I would like to cancel my subscription at the end of the month.",
            "Bonjour, je souhaite résilier mon abonnement à la fin du mois.",
        ),
        Line(
            "My card was refused twice anyway, I am moving abroad.",
            "Ma carte a été refusée deux fois de toute façon, je pars à l'étranger.",
        ),
        Line(
            "Hello {first}, I am sorry to see you go. I have offered you the last month "
            "and the cancellation is recorded.",
            "Bonjour {first}, nous sommes désolés de vous voir partir. Je vous ai offert "
            "le dernier mois et la résiliation est enregistrée.",
        ),
        ("subscription.cancel", "payment.card_failed", "commercial.gesture"),
    ),
    Topic(
        Line("Invoice request", "J'ai besoin d'une facture"),
        Line(
            "Could you send me the invoice for my last payment? It is for my employer.",
            "Pourriez-vous m'envoyer la facture de mon dernier paiement ? C'est pour "
            "mon employeur.",
        ),
        Line(
            "With my company's name on it if possible.",
            "Avec le nom de mon entreprise dessus si possible.",
        ),
        Line(
            "Hello {first}, the invoice is in your customer area; I asked billing to add "
            "your company's name.",
            "Bonjour {first}, la facture est dans votre espace client ; j'ai demandé à la "
            "facturation d'ajouter le nom de votre entreprise.",
        ),
        ("billing.invoice", "payment.card_failed", "account.escalated"),
    ),
)

#: The answer to a simulated contact whose visit this run did not start (a restart).
GENERIC_ANSWER = Line(
    "Hello, thank you for your message: it is sorted. Have a good day!",
    "Bonjour, merci pour votre message : c'est réglé. Bonne journée !",
)

_FIRST = {
    "fr": ("Camille", "Louis", "Chloé", "Hugo", "Inès", "Lucas", "Manon", "Nathan", "Zoé"),
    "en": ("Olivia", "James", "Amelia", "Harry", "Isla", "Jack", "Emily", "Noah", "Grace"),
}
_LAST = {
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Walker"),
}


@dataclass(frozen=True, slots=True)
class Pace:
    """How busy the demo is and how its simulated people take their time (seconds of
    simulated time: the driver divides them by its speed)."""

    contacts_per_minute: float = 2.0
    follow_up_seconds: tuple[float, float] = (20.0, 60.0)
    accept_seconds: tuple[float, float] = (3.0, 12.0)
    answer_seconds: tuple[float, float] = (15.0, 45.0)
    handle_seconds: dict[Channel, float] = field(
        default_factory=lambda: {
            Channel.CHAT: 150.0,
            Channel.EMAIL: 240.0,
            Channel.SMS: 180.0,
            Channel.WHATSAPP: 150.0,
            Channel.MESSENGER: 150.0,
        }
    )
    handle_cv: float = 0.6
    wrap_up_seconds: tuple[float, float] = (5.0, 30.0)
    break_chance: float = 0.08
    break_seconds: float = 240.0


@dataclass(frozen=True, slots=True)
class Visit:
    """One simulated customer's contact: ``number`` makes their addresses."""

    number: int
    channel: Channel
    language: str
    first_name: str
    last_name: str
    topic: Topic
    #: After the opening, seconds of simulated time, then the follow-up message.
    follow_up_after: float

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def subject(self) -> str:
        return self.topic.subject.read(self.language)

    @property
    def opening(self) -> str:
        return self.topic.opening.read(self.language)

    @property
    def follow_up(self) -> str:
        return self.topic.follow_up.read(self.language)


@dataclass(frozen=True, slots=True)
class AgentTurn:
    """How a simulated agent handles one offer, in seconds of simulated time: accept
    it, answer ``answer_after`` later, complete it ``handle_seconds`` after accepting,
    wrap up, then perhaps take a break (``break_seconds``, else ``None``)."""

    accept_after: float
    answer_after: float
    handle_seconds: float
    wrap_up_seconds: float
    break_seconds: float | None


class DemoTraffic:
    """The seeded source of the demo's visits and agents' turns (see the module rules)."""

    def __init__(self, *, seed: int, pace: Pace | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a demo's traffic, not secrets
        self.agents_rng = random.Random(f"{seed}:agents")  # noqa: S311
        self.pace = pace or Pace()
        self.visits = 0

    def next_visit(self) -> tuple[float, Visit]:
        """Seconds until the next contact on any written channel, and that contact."""
        per_hour = self.pace.contacts_per_minute * 60 * len(WRITTEN_CHANNELS)
        gap = arrival_gap(self.rng, per_hour)
        return gap, self.visit(self.rng.choice(WRITTEN_CHANNELS))

    def visit(self, channel: Channel) -> Visit:
        self.visits += 1
        language = self.rng.choice(_LANGUAGES)
        return Visit(
            number=self.visits,
            channel=channel,
            language=language,
            first_name=self.rng.choice(_FIRST[language]),
            last_name=self.rng.choice(_LAST[language]),
            topic=self.rng.choice(TOPICS),
            follow_up_after=self.rng.uniform(*self.pace.follow_up_seconds),
        )

    def agent_turn(self, channel: Channel) -> AgentTurn:
        pace, rng = self.pace, self.agents_rng
        answer_after = rng.uniform(*pace.answer_seconds)
        mean = pace.handle_seconds.get(channel, 180.0)
        handle = handle_seconds(rng, mean, "lognormal", pace.handle_cv)
        takes_break = rng.random() < pace.break_chance
        return AgentTurn(
            accept_after=rng.uniform(*pace.accept_seconds),
            answer_after=answer_after,
            handle_seconds=max(handle, answer_after + 5.0),
            wrap_up_seconds=rng.uniform(*pace.wrap_up_seconds),
            break_seconds=rng.expovariate(1 / pace.break_seconds) if takes_break else None,
        )

    @staticmethod
    def answer(visit: Visit) -> str:
        """The simulated agent's answer, in the customer's language."""
        return visit.topic.answer.read(visit.language, first=visit.first_name)
