"""The demo company, as data: Vigilo, a road-safety subscription service in seven
countries with one internal site and three partner sites (MISSION.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "AGENTS",
    "BUSINESS_HOURS",
    "COUNTRIES",
    "HOLIDAYS",
    "QUEUES",
    "REASONS",
    "SITES",
    "SKILLS",
    "TEAMS",
    "AgentSpec",
    "CountrySpec",
    "QueueSpec",
    "ReasonSpec",
]

SITES: list[tuple[str, str, str]] = [
    ("Paris HQ", "internal", "Europe/Paris"),
    ("Lisbon — Atlantico Contact", "partner", "Europe/Lisbon"),
    ("Warsaw — Vistula Services", "partner", "Europe/Warsaw"),
    ("Casablanca — Atlas Relation", "partner", "Africa/Casablanca"),
]

TEAMS: list[tuple[str, str]] = [
    ("Customer service", "Subscriptions, billing and account questions, by phone and e-mail"),
    ("Technical support", "Device and app troubleshooting"),
    ("Outbound renewals", "Calls subscribers whose subscription is ending"),
    ("Chat and social", "Web chat, Messenger, X and app-store reviews"),
]

SKILLS: list[tuple[str, str]] = [
    ("billing", "Invoices, payments, refunds"),
    ("subscription", "Plans, changes, cancellations"),
    ("device_setup", "Pairing and configuring the road-safety device"),
    ("app_support", "The mobile app: sign-in, maps, alerts"),
    ("renewals", "Renewal offers and upsell"),
    ("complaints", "Complaints and commercial gestures"),
    ("social_media", "Public replies on social networks and app stores"),
]


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    site: str
    team: str
    languages: tuple[str, ...]
    skills: tuple[tuple[str, int], ...]
    role: str = "agent"


_CS = "Customer service"
_TS = "Technical support"
_OR = "Outbound renewals"
_CH = "Chat and social"
_PARIS, _LISBON, _WARSAW, _CASA = (s[0] for s in SITES)

AGENTS: list[AgentSpec] = [
    AgentSpec(
        "Camille Laurent",
        _PARIS,
        _CS,
        ("fr", "en"),
        (("billing", 8), ("subscription", 7), ("complaints", 6)),
    ),
    AgentSpec("Hugo Moreau", _PARIS, _CS, ("fr", "de"), (("billing", 6), ("subscription", 8))),
    AgentSpec(
        "Léa Girard", _PARIS, _TS, ("fr", "en", "it"), (("device_setup", 9), ("app_support", 8))
    ),
    AgentSpec(
        "Thomas Mercier", _PARIS, _TS, ("fr", "nl"), (("device_setup", 7), ("app_support", 9))
    ),
    AgentSpec(
        "Sarah Lemaire",
        _PARIS,
        _CH,
        ("fr", "en"),
        (("social_media", 9), ("complaints", 7), ("app_support", 5)),
    ),
    AgentSpec(
        "Julien Fabre", _PARIS, _CH, ("fr", "es"), (("social_media", 7), ("subscription", 6))
    ),
    AgentSpec("Manon Rousseau", _PARIS, _OR, ("fr",), (("renewals", 9), ("subscription", 6))),
    AgentSpec("Nicolas Blanc", _PARIS, _CS, ("fr", "en"), (("complaints", 9), ("billing", 7))),
    AgentSpec(
        "Inês Carvalho", _LISBON, _CS, ("es", "fr", "en"), (("billing", 6), ("subscription", 7))
    ),
    AgentSpec("João Ferreira", _LISBON, _CS, ("es", "it"), (("subscription", 7),)),
    AgentSpec("Marta Sousa", _LISBON, _TS, ("es", "en"), (("device_setup", 6), ("app_support", 7))),
    AgentSpec("Rui Almeida", _LISBON, _OR, ("es", "fr"), (("renewals", 8),)),
    AgentSpec("Giulia Rossi", _LISBON, _CS, ("it", "fr"), (("billing", 7), ("subscription", 6))),
    AgentSpec("Ana Martins", _LISBON, _CH, ("es", "it", "en"), (("social_media", 6),)),
    AgentSpec(
        "Katarzyna Nowak", _WARSAW, _CS, ("pl", "en", "de"), (("billing", 7), ("subscription", 7))
    ),
    AgentSpec(
        "Piotr Kowalski", _WARSAW, _TS, ("pl", "en"), (("device_setup", 8), ("app_support", 6))
    ),
    AgentSpec("Agnieszka Wiśniewska", _WARSAW, _TS, ("pl", "de", "nl"), (("device_setup", 7),)),
    AgentSpec("Tomasz Wójcik", _WARSAW, _OR, ("pl", "de"), (("renewals", 7),)),
    AgentSpec(
        "Magdalena Kamińska",
        _WARSAW,
        _CS,
        ("pl", "nl", "en"),
        (("subscription", 6), ("complaints", 5)),
    ),
    AgentSpec("Youssef El Amrani", _CASA, _CS, ("fr", "en"), (("billing", 7), ("subscription", 6))),
    AgentSpec("Salma Benali", _CASA, _CS, ("fr", "es"), (("subscription", 7), ("complaints", 6))),
    AgentSpec("Mehdi Tazi", _CASA, _TS, ("fr",), (("device_setup", 6), ("app_support", 6))),
    AgentSpec("Imane Alaoui", _CASA, _OR, ("fr", "en"), (("renewals", 8), ("subscription", 5))),
    AgentSpec("Karim Idrissi", _CASA, _OR, ("fr",), (("renewals", 6),)),
    AgentSpec("Nadia Chraibi", _CASA, _CH, ("fr", "en"), (("social_media", 6), ("app_support", 5))),
]

#: The simulated agents of the demo's simulation (docs/demo.md): they work the written
#: channels beside the printed agent, and routing offers them only simulated contacts.
SIMULATED_AGENTS: list[AgentSpec] = [
    AgentSpec(
        name,
        _PARIS,
        _CH,
        ("fr", "en"),
        (("billing", 6), ("subscription", 6), ("app_support", 6), ("social_media", 6)),
    )
    for name in (
        "Alix Morel",
        "Bastien Roux",
        "Clara Vidal",
        "Dylan Perrin",
        "Elsa Garnier",
        "Félix Chevalier",
    )
]


@dataclass(frozen=True, slots=True)
class QueueSpec:
    name: str
    channel: str
    team: str
    site: str | None
    target: str
    priority: int = 0
    service_level_seconds: int = 20
    # Whether the queue keeps the French business hours. The channels a visitor tries
    # from the demo (web chat, e-mail, Messenger) take work at any hour instead: a
    # demo opened at 3 a.m. must not show a closed contact center.
    office_hours: bool = True


QUEUES: list[QueueSpec] = [
    QueueSpec("Customer service — phone", "voice", _CS, None, "skills HAS 'subscription'", 10),
    QueueSpec(
        "Customer service — e-mail", "email", _CS, None, "skills HAS 'billing'", 0, 172800, False
    ),
    QueueSpec("Technical support — phone", "voice", _TS, None, "skills HAS 'device_setup'", 10),
    QueueSpec(
        "Technical support — e-mail",
        "email",
        _TS,
        None,
        "skills HAS 'app_support'",
        0,
        172800,
        False,
    ),
    QueueSpec("Renewals — outbound", "voice", _OR, None, "skills HAS 'renewals'", 5),
    QueueSpec("Web chat", "chat", _CH, None, "team == 'Chat and social'", 8, 30, False),
    QueueSpec("Messenger", "messenger", _CH, _PARIS, "skills HAS 'social_media'", 5, 3600, False),
    QueueSpec("SMS", "sms", _CH, None, "skills HAS 'social_media'", 5, 3600, False),
    QueueSpec("WhatsApp", "whatsapp", _CH, None, "skills HAS 'social_media'", 6, 3600, False),
    QueueSpec("X mentions", "twitter", _CH, _PARIS, "skills HAS 'social_media'", 3, 3600),
    QueueSpec("App-store reviews", "review", _CH, _PARIS, "skills HAS 'social_media'", 0, 86400),
    QueueSpec("Partner overflow — Lisbon phone", "voice", _CS, _LISBON, "site == 'Lisbon'", 5),
    QueueSpec("Partner overflow — Warsaw phone", "voice", _CS, _WARSAW, "site == 'Warsaw'", 5),
    QueueSpec(
        "Partner overflow — Casablanca phone", "voice", _CS, _CASA, "site == 'Casablanca'", 5
    ),
]

BUSINESS_HOURS: dict[str, object] = {
    "name": "Customer service hours (France)",
    "timezone": "Europe/Paris",
    "weekly": [
        *({"day": d, "open": "08:00", "close": "20:00"} for d in range(5)),
        {"day": 5, "open": "09:00", "close": "17:00"},
    ],
}

HOLIDAYS: list[tuple[date, str]] = [
    (date(2026, 12, 25), "Christmas Day"),
    (date(2027, 1, 1), "New Year's Day"),
    (date(2027, 3, 29), "Easter Monday"),
    (date(2027, 5, 1), "Labour Day"),
    (date(2027, 5, 6), "Ascension Day"),
    (date(2027, 5, 8), "Victory in Europe Day"),
    (date(2027, 5, 17), "Whit Monday"),
    (date(2027, 7, 14), "Bastille Day"),
    (date(2027, 8, 15), "Assumption Day"),
    (date(2027, 11, 1), "All Saints' Day"),
    (date(2027, 11, 11), "Armistice Day"),
]


@dataclass(frozen=True, slots=True)
class ReasonSpec:
    axis: str
    code: str
    en: str
    fr: str
    parent: str | None = None


REASONS: list[ReasonSpec] = [
    # What the customer says.
    ReasonSpec("declaration", "device", "My device", "Mon boîtier"),
    ReasonSpec(
        "declaration",
        "device.not_working",
        "Device does not work",
        "Le boîtier ne fonctionne pas",
        "device",
    ),
    ReasonSpec(
        "declaration",
        "device.no_alerts",
        "No alerts on the road",
        "Pas d'alertes sur la route",
        "device",
    ),
    ReasonSpec("declaration", "billing", "Billing", "Facturation"),
    ReasonSpec(
        "declaration", "billing.charged_twice", "Charged twice", "Prélevé deux fois", "billing"
    ),
    ReasonSpec(
        "declaration", "billing.invoice", "Need an invoice", "Besoin d'une facture", "billing"
    ),
    ReasonSpec("declaration", "subscription", "Subscription", "Abonnement"),
    ReasonSpec(
        "declaration", "subscription.cancel", "Wants to cancel", "Veut résilier", "subscription"
    ),
    ReasonSpec(
        "declaration", "subscription.renew", "Wants to renew", "Veut renouveler", "subscription"
    ),
    ReasonSpec("declaration", "app", "Mobile app", "Application mobile"),
    ReasonSpec("declaration", "app.login", "Cannot sign in", "Impossible de se connecter", "app"),
    # What the situation really is, found by diagnosis.
    ReasonSpec("qualification", "device", "Device", "Boîtier"),
    ReasonSpec(
        "qualification", "device.not_paired", "Device not paired", "Boîtier non appairé", "device"
    ),
    ReasonSpec(
        "qualification", "device.firmware", "Outdated firmware", "Micrologiciel obsolète", "device"
    ),
    ReasonSpec("qualification", "payment", "Payment", "Paiement"),
    ReasonSpec(
        "qualification",
        "payment.card_failed",
        "Card payment failed",
        "Échec du paiement par carte",
        "payment",
    ),
    ReasonSpec(
        "qualification",
        "payment.duplicate",
        "Duplicate direct debit",
        "Prélèvement en double",
        "payment",
    ),
    ReasonSpec("qualification", "account", "Account", "Compte"),
    ReasonSpec(
        "qualification", "account.expired", "Subscription expired", "Abonnement expiré", "account"
    ),
    ReasonSpec("qualification", "account.locked", "Account locked", "Compte verrouillé", "account"),
    # What was done.
    ReasonSpec("action", "technical", "Technical action", "Action technique"),
    ReasonSpec(
        "action",
        "technical.remote_reset",
        "Remote reset",
        "Réinitialisation à distance",
        "technical",
    ),
    ReasonSpec(
        "action", "technical.pairing_help", "Pairing assistance", "Aide à l'appairage", "technical"
    ),
    ReasonSpec("action", "commercial", "Commercial action", "Action commerciale"),
    ReasonSpec("action", "commercial.refund", "Refund", "Remboursement", "commercial"),
    ReasonSpec(
        "action", "commercial.renewal_sold", "Renewal sold", "Renouvellement vendu", "commercial"
    ),
    ReasonSpec(
        "action", "commercial.gesture", "Commercial gesture", "Geste commercial", "commercial"
    ),
    ReasonSpec("action", "account", "Account action", "Action sur le compte"),
    ReasonSpec(
        "action",
        "account.password_reset",
        "Password reset",
        "Réinitialisation du mot de passe",
        "account",
    ),
    ReasonSpec(
        "action",
        "account.escalated",
        "Escalated to an expert",
        "Escalade vers un expert",
        "account",
    ),
]


@dataclass(frozen=True, slots=True)
class CountrySpec:
    code: str
    language: str
    phone_prefix: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    weight: int


COUNTRIES: list[CountrySpec] = [
    CountrySpec(
        "FR",
        "fr",
        "+336",
        ("Marie", "Pierre", "Sophie", "Antoine", "Chloé", "Louis", "Emma", "Lucas"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand"),
        45,
    ),
    CountrySpec(
        "BE",
        "fr",
        "+32470",
        ("Lucie", "Maxime", "Elise", "Arthur", "Noor", "Milan"),
        ("Peeters", "Janssens", "Maes", "Dupont", "Lambert", "Claes"),
        10,
    ),
    CountrySpec(
        "LU",
        "fr",
        "+352621",
        ("Mia", "Noah", "Lena", "Ben"),
        ("Schmit", "Muller", "Weber", "Hoffmann"),
        3,
    ),
    CountrySpec(
        "NL",
        "nl",
        "+316",
        ("Daan", "Sanne", "Bram", "Fleur", "Jesse", "Lotte"),
        ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
        10,
    ),
    CountrySpec(
        "IT",
        "it",
        "+39347",
        ("Giulia", "Marco", "Chiara", "Luca", "Sara", "Matteo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
        12,
    ),
    CountrySpec(
        "ES",
        "es",
        "+346",
        ("Lucía", "Javier", "Carmen", "Pablo", "Elena", "Diego"),
        ("García", "Fernández", "López", "Martínez", "Sánchez", "Pérez"),
        12,
    ),
    CountrySpec(
        "PL",
        "pl",
        "+4850",
        ("Zofia", "Jakub", "Maja", "Kacper", "Julia", "Szymon"),
        ("Nowak", "Kowalczyk", "Lewandowski", "Zieliński", "Szymańska", "Woźniak"),
        8,
    ),
]
