"""The demo company's toolbox: canned responses and knowledge-base articles in French
and English for what Vigilo's customers ask (delivery of the device, billing, refunds,
the contract, passwords, pairing, alerts, renewals), seeded through the services."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opencx.core.enums import Role
from opencx.core.knowledge import CannedScope, ContentLocale
from opencx.core.permissions import Principal
from opencx.features.context import AppContext
from opencx.features.knowledge import (
    ArticleCreate,
    CannedCreate,
    create_article,
    create_canned_response,
)
from opencx.features.users.service import UserOut

__all__ = ["ARTICLES", "CANNED", "PERSONAL", "ArticleSpec", "CannedSpec", "seed_toolbox"]

_SIGNATURE_FR = "\n\nBien cordialement,\n{{ agent.name }}\nService client Vigilo"
_SIGNATURE_EN = "\n\nKind regards,\n{{ agent.name }}\nVigilo customer service"


@dataclass(frozen=True, slots=True)
class CannedSpec:
    title: str
    body: str
    locale: str
    shortcut: str
    team: str | None = None  # None: the company's


@dataclass(frozen=True, slots=True)
class ArticleSpec:
    title: str
    body: str
    locale: str
    tags: tuple[str, ...]
    published: bool = True


CANNED: list[CannedSpec] = [
    CannedSpec(
        "Double prélèvement : remboursement",
        "Bonjour {{ customer.first_name }},\n\nNous avons bien constaté que votre abonnement "
        "a été prélevé deux fois ce mois-ci. Le montant prélevé en double vous est "
        "remboursé sous 5 jours ouvrés, sur le compte débité. Votre dossier porte le "
        "numéro {{ case.number }}." + _SIGNATURE_FR,
        "fr",
        "remboursement",
    ),
    CannedSpec(
        "Duplicate charge: refund",
        "Hello {{ customer.first_name }},\n\nWe can see that your subscription was charged "
        "twice this month. The duplicate payment is refunded to the debited account within "
        "5 working days. Your case number is {{ case.number }}." + _SIGNATURE_EN,
        "en",
        "refund",
    ),
    CannedSpec(
        "Livraison du boîtier en cours",
        "Bonjour {{ customer.first_name }},\n\nVotre boîtier Vigilo a été expédié : la "
        "livraison prend 3 à 5 jours ouvrés. Le lien de suivi du colis se trouve dans "
        "l'e-mail de confirmation et dans votre espace client, rubrique « Mes commandes »."
        + _SIGNATURE_FR,
        "fr",
        "livraison",
    ),
    CannedSpec(
        "Device delivery under way",
        "Hello {{ customer.first_name }},\n\nYour Vigilo device has been shipped: delivery "
        "takes 3 to 5 working days. The parcel tracking link is in your confirmation e-mail "
        'and in your account, under "My orders".' + _SIGNATURE_EN,
        "en",
        "delivery",
    ),
    CannedSpec(
        "Facture disponible",
        "Bonjour {{ customer.first_name }},\n\nVos factures sont disponibles dans votre "
        "espace client, rubrique « Mes factures », au format PDF. Je vous envoie également "
        "la dernière facture en pièce jointe." + _SIGNATURE_FR,
        "fr",
        "facture",
    ),
    CannedSpec(
        "Your invoice",
        "Hello {{ customer.first_name }},\n\nYour invoices are available as PDF files in "
        'your account, under "My invoices". I am also attaching your latest invoice to '
        "this message." + _SIGNATURE_EN,
        "en",
        "invoice",
    ),
    CannedSpec(
        "Mot de passe oublié",
        "Bonjour {{ customer.first_name }},\n\nPour réinitialiser votre mot de passe, "
        "touchez « Mot de passe oublié » sur l'écran de connexion de l'application : un "
        "lien valable 30 minutes vous est envoyé par e-mail. Après 5 essais, le compte "
        "est verrouillé 15 minutes." + _SIGNATURE_FR,
        "fr",
        "motdepasse",
    ),
    CannedSpec(
        "Forgotten password",
        'Hello {{ customer.first_name }},\n\nTo reset your password, tap "Forgot '
        "password\" on the app's sign-in screen: a link valid for 30 minutes is sent to your "
        "e-mail. After 5 attempts the account is locked for 15 minutes." + _SIGNATURE_EN,
        "en",
        "password",
    ),
    CannedSpec(
        "Résiliation de l'abonnement",
        "Bonjour {{ customer.first_name }},\n\nVotre contrat peut être résilié à tout moment "
        "après la première année, avec un préavis d'un mois. J'enregistre votre demande de "
        "résiliation (dossier {{ case.number }}) : vous recevrez la confirmation par "
        "e-mail." + _SIGNATURE_FR,
        "fr",
        "resiliation",
    ),
    CannedSpec(
        "Cancelling the subscription",
        "Hello {{ customer.first_name }},\n\nYour contract can be cancelled at any time "
        "after the first year, with one month's notice. I have recorded your cancellation "
        "request (case {{ case.number }}): you will receive the confirmation by e-mail."
        + _SIGNATURE_EN,
        "en",
        "cancel",
    ),
    CannedSpec(
        "Geste commercial : un mois offert",
        "Bonjour {{ customer.first_name }},\n\nPour nous excuser de la gêne occasionnée, "
        "nous vous offrons un mois d'abonnement : il sera déduit de votre prochaine "
        "échéance." + _SIGNATURE_FR,
        "fr",
        "geste",
        "Customer service",
    ),
    CannedSpec(
        "Goodwill gesture: one month free",
        "Hello {{ customer.first_name }},\n\nTo apologise for the trouble, we are giving you "
        "one month of subscription: it will be taken off your next payment." + _SIGNATURE_EN,
        "en",
        "gesture",
        "Customer service",
    ),
    CannedSpec(
        "Offre de renouvellement",
        "Bonjour {{ customer.first_name }},\n\nVotre abonnement arrive à échéance. En le "
        "renouvelant aujourd'hui pour deux ans, vous bénéficiez de deux mois offerts et "
        "des mises à jour de cartes incluses." + _SIGNATURE_FR,
        "fr",
        "renouvellement",
        "Outbound renewals",
    ),
    CannedSpec(
        "Renewal offer",
        "Hello {{ customer.first_name }},\n\nYour subscription is coming to an end. Renew "
        "today for two years and get two months free, with map updates included." + _SIGNATURE_EN,
        "en",
        "renewal",
        "Outbound renewals",
    ),
    CannedSpec(
        "Appairer le boîtier",
        "Bonjour {{ customer.first_name }},\n\nPour appairer votre boîtier : activez le "
        "Bluetooth, ouvrez l'application, menu « Mon boîtier » > « Appairer », puis "
        "maintenez le bouton du boîtier 5 secondes jusqu'au clignotement bleu.",
        "fr",
        "appairage",
        "Technical support",
    ),
    CannedSpec(
        "Pairing the device",
        "Hello {{ customer.first_name }},\n\nTo pair your device: turn Bluetooth on, open "
        'the app, menu "My device" > "Pair", then hold the device\'s button for 5 seconds '
        "until it flashes blue.",
        "en",
        "pairing",
        "Technical support",
    ),
    CannedSpec(
        "Pas d'alertes : mise à jour du boîtier",
        "Bonjour {{ customer.first_name }},\n\nSi le boîtier ne donne plus d'alertes sur la "
        "route, son micrologiciel est sans doute obsolète. Je lance une réinitialisation à "
        "distance : laissez le boîtier branché 10 minutes, il se mettra à jour seul.",
        "fr",
        "alertes",
        "Technical support",
    ),
    CannedSpec(
        "No alerts: device update",
        "Hello {{ customer.first_name }},\n\nIf the device no longer gives alerts on the "
        "road, its firmware is probably out of date. I am starting a remote reset: leave the "
        "device plugged in for 10 minutes and it will update itself.",
        "en",
        "alerts",
        "Technical support",
    ),
    CannedSpec(
        "Accueil sur le chat",
        "Bonjour {{ customer.first_name }}, je suis {{ agent.first_name }} du service "
        "client Vigilo. Je regarde votre demande tout de suite.",
        "fr",
        "bonjour",
        "Chat and social",
    ),
    CannedSpec(
        "Chat greeting",
        "Hello {{ customer.first_name }}, I am {{ agent.first_name }} from Vigilo customer "
        "service. I am looking at your request right now.",
        "en",
        "hello",
        "Chat and social",
    ),
]

#: The printed agent login's own responses.
PERSONAL: list[CannedSpec] = [
    CannedSpec(
        "Je vous rappelle",
        "{{ customer.first_name }}, je vous rappelle dans 10 minutes au numéro de votre "
        "dossier {{ case.number }}.",
        "fr",
        "rappel",
    ),
    CannedSpec(
        "I will call you back",
        "{{ customer.first_name }}, I will call you back within 10 minutes about case "
        "{{ case.number }}.",
        "en",
        "callback",
    ),
]

ARTICLES: list[ArticleSpec] = [
    ArticleSpec(
        "Rembourser un double prélèvement",
        "# Quand un client est prélevé deux fois\n\n"
        "1. Vérifier dans l'outil de facturation les deux prélèvements du mois.\n"
        "2. Coder le contact : déclaration « Prélevé deux fois », qualification "
        "« Prélèvement en double », action « Remboursement ».\n"
        "3. Le remboursement part sous 5 jours ouvrés sur le compte débité.\n\n"
        "Si le client demande un geste commercial, voir le barème des gestes.",
        "fr",
        ("facturation", "remboursement"),
    ),
    ArticleSpec(
        "Refunding a duplicate direct debit",
        "# When a customer is charged twice\n\n"
        "1. Check both debits of the month in the billing tool.\n"
        '2. Code the contact: declaration "Charged twice", qualification "Duplicate '
        'direct debit", action "Refund".\n'
        "3. The refund reaches the debited account within 5 working days.\n\n"
        "If the customer asks for a goodwill gesture, see the gestures scale.",
        "en",
        ("billing", "refund"),
    ),
    ArticleSpec(
        "Suivre la livraison du boîtier",
        "Le boîtier est expédié sous 24 h après la souscription et livré en 3 à 5 jours "
        "ouvrés. Le numéro de suivi du colis figure dans l'espace client (« Mes "
        "commandes »). Colis perdu après 10 jours : renvoyer un boîtier sans frais.",
        "fr",
        ("livraison", "boîtier"),
    ),
    ArticleSpec(
        "Tracking the device's delivery",
        "The device ships within 24 hours of subscribing and is delivered in 3 to 5 working "
        "days. The parcel's tracking number is in the customer's account (\"My orders\"). "
        "A parcel lost after 10 days: send a new device free of charge.",
        "en",
        ("delivery", "device"),
    ),
    ArticleSpec(
        "Obtenir une facture",
        "Les factures sont dans l'espace client, rubrique « Mes factures », au format PDF. "
        "Pour une facture au nom d'une société (flotte), modifier d'abord la raison sociale "
        "dans le profil du client.",
        "fr",
        ("facturation", "facture"),
    ),
    ArticleSpec(
        "Getting an invoice",
        'Invoices are in the customer\'s account, under "My invoices", as PDF files. For an '
        "invoice in a company's name (fleet), first change the company name in the "
        "customer's profile.",
        "en",
        ("billing", "invoice"),
    ),
    ArticleSpec(
        "Réinitialiser le mot de passe",
        "Le client touche « Mot de passe oublié » dans l'application ; le lien reçu par "
        "e-mail vaut 30 minutes. Compte verrouillé après 5 essais : il se déverrouille seul "
        "après 15 minutes, ou l'agent le déverrouille depuis la fiche client.",
        "fr",
        ("application", "mot de passe"),
    ),
    ArticleSpec(
        "Resetting a password",
        'The customer taps "Forgot password" in the app; the link sent by e-mail is valid '
        "for 30 minutes. An account is locked after 5 attempts: it unlocks itself after 15 "
        "minutes, or the agent unlocks it from the customer's record.",
        "en",
        ("app", "password"),
    ),
    ArticleSpec(
        "Résilier un abonnement : conditions du contrat",
        "Le contrat engage 12 mois, puis se résilie à tout moment avec un mois de préavis. "
        "Avant d'enregistrer la résiliation, proposer l'offre de renouvellement. En cas "
        "d'échec de paiement par carte, proposer d'abord de mettre à jour la carte.",
        "fr",
        ("contrat", "résiliation"),
    ),
    ArticleSpec(
        "Cancelling a subscription: contract terms",
        "The contract commits for 12 months, then can be cancelled at any time with one "
        "month's notice. Before recording a cancellation, offer the renewal deal. If a card "
        "payment failed, first offer to update the card.",
        "en",
        ("contract", "cancellation"),
    ),
    ArticleSpec(
        "Appairer le boîtier avec l'application",
        "Bluetooth activé, menu « Mon boîtier » > « Appairer », bouton du boîtier maintenu "
        "5 secondes (clignotement bleu). Échec répété : réinitialisation à distance depuis "
        "l'outil technique, puis nouvel essai.",
        "fr",
        ("boîtier", "appairage"),
    ),
    ArticleSpec(
        "Pairing the device with the app",
        'Bluetooth on, menu "My device" > "Pair", hold the device\'s button for 5 seconds '
        "(blue flashing). Repeated failure: remote reset from the technical tool, then try "
        "again.",
        "en",
        ("device", "pairing"),
    ),
    ArticleSpec(
        "Pas d'alertes sur la route",
        "Un boîtier silencieux a le plus souvent un micrologiciel obsolète. Lancer une "
        "réinitialisation à distance ; le boîtier, branché, se met à jour en 10 minutes. "
        "Sinon, vérifier que l'abonnement n'est pas expiré.",
        "fr",
        ("boîtier", "alertes"),
    ),
    ArticleSpec(
        "No alerts on the road",
        "A silent device most often has outdated firmware. Start a remote reset; the "
        "device, plugged in, updates itself in 10 minutes. Otherwise, check that the "
        "subscription has not expired.",
        "en",
        ("device", "alerts"),
    ),
    ArticleSpec(
        "Barème des gestes commerciaux (brouillon)",
        "En cours de validation : un mois offert pour un double prélèvement, deux mois pour "
        "un boîtier perdu.",
        "fr",
        ("geste commercial",),
        published=False,
    ),
]


async def seed_toolbox(
    ctx: AppContext, admin: Principal, *, teams: Mapping[str, int], agent: UserOut
) -> None:
    """The company's and the teams' responses (as the admin), the printed agent's own
    (as that agent), and the articles."""
    for spec in CANNED:
        team_id = teams[spec.team] if spec.team else None
        scope = CannedScope.TEAM if team_id else CannedScope.COMPANY
        await create_canned_response(ctx, admin, _canned(spec, scope, team_id))
    own = Principal(user_id=agent.id, role=Role.AGENT, site_id=agent.site_id)
    for spec in PERSONAL:
        await create_canned_response(ctx, own, _canned(spec, CannedScope.PERSONAL, None))
    for article in ARTICLES:
        await create_article(
            ctx,
            admin,
            ArticleCreate(
                title=article.title,
                body=article.body,
                locale=ContentLocale(article.locale),
                tags=list(article.tags),
                published=article.published,
            ),
        )


def _canned(spec: CannedSpec, scope: CannedScope, team_id: int | None) -> CannedCreate:
    return CannedCreate(
        title=spec.title,
        body=spec.body,
        locale=ContentLocale(spec.locale),
        shortcut=spec.shortcut,
        scope=scope,
        team_id=team_id,
    )
