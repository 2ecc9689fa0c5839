"""Only what the customer wrote is shown: quotes, attributions and signatures go."""

from __future__ import annotations

import pytest

from opencx.providers.email import strip_quoted_reply

NEW = "Thanks, it works now.\n\nJane"
QUOTE = "> Hello Jane,\n>\n> please restart the router.\n"

GMAIL_EN = "On Mon, Jun 3, 2024 at 10:12 AM Support <support@example.com> wrote:"
GMAIL_FR = "Le lun. 3 juin 2024 à 10:12, Support <support@example.com> a écrit :"
OUTLOOK_EN = "From: Support <s@example.com>\nSent: Monday, June 3, 2024 10:12 AM\nTo: Jane"
RULE = "________________________________"

CASES = {
    "gmail en": f"{NEW}\n\n{GMAIL_EN}\n\n{QUOTE}",
    "gmail en wrapped": (
        f"{NEW}\n\nOn Mon, Jun 3, 2024 at 10:12\u202fAM Shop Support <support@shop.example.com>\n"
        f"wrote:\n\n{QUOTE}"
    ),
    "gmail fr": f"{NEW}\n\n{GMAIL_FR}\n\n{QUOTE}",
    "gmail fr wrapped": (
        f"{NEW}\n\nLe lun. 3 juin 2024 à 10:12, Service client Boutique <support@example.com> a\n"
        f"écrit :\n{QUOTE}"
    ),
    "apple fr": f"{NEW}\n\n> Le 3 juin 2024 à 10:12, Support <s@example.com> a écrit :\n{QUOTE}",
    "thunderbird en": f"{NEW}\n\nOn 6/3/24 10:12 AM, Support wrote:\n{QUOTE}",
    "thunderbird fr": f"{NEW}\n\nLe 03/06/2024 à 10:12, Support a écrit\u00a0:\n{QUOTE}",
    "attribution without quote marks": f"{NEW}\n\n{GMAIL_EN}\n\nHello Jane",
    "outlook en": f"{NEW}\n\n{RULE}\n{OUTLOOK_EN}\nSubject: RE: router\n\nHello Jane,",
    "outlook fr": (
        f"{NEW}\n\nDe : Support <support@example.com>\nEnvoyé : lundi 3 juin 2024 10:12\n"
        "À : Jane <jane@example.com>\nObjet : RE : routeur\n\nBonjour Jane,"
    ),
    "outlook mac fr": (
        f"{NEW}\n\nDe : Support <support@example.com>\nDate : lundi 3 juin 2024 à 10:12\n"
        "À : Jane <jane@example.com>\nObjet : routeur\n\nBonjour Jane,"
    ),
    "outlook fr on one line": (
        f"{NEW}\n\nDe : Support Envoyé : lundi 3 juin 2024 10:12 À : Jane Objet : routeur\n"
        "Bonjour Jane,"
    ),
    "outlook bold fields": (
        f"{NEW}\n\n*From:* Support <support@example.com>\n*Sent:* Monday, June 3, 2024\n"
        "*To:* Jane\n*Subject:* router\n\nHello"
    ),
    "original message": f"{NEW}\n\n-----Original Message-----\nFrom: Support\nHello Jane,",
    "message d'origine": f"{NEW}\n\n----- Message d'origine -----\nDe : Support\nBonjour Jane,",
    "thunderbird message original": (
        f"{NEW}\n\n-------- Message original --------\nSujet : routeur\nBonjour Jane,"
    ),
    "signature": f"{NEW}\n-- \nJane Doe\nACME Corp\n+33 1 23 45 67 89",
    "signature without its trailing space": f"{NEW}\n--\nJane Doe",
    "mobile en": f"{NEW}\n\nSent from my iPhone\n\n> On 3 Jun 2024, at 10:12, S wrote:\n{QUOTE}",
    "mobile fr": f"{NEW}\n\nEnvoyé de mon iPhone\n\n{QUOTE}",
    "outlook mobile": f"{NEW}\n\nGet Outlook for iOS\n{RULE}\n{OUTLOOK_EN}",
    "crlf": f"{NEW}\n\n{GMAIL_EN}\n{QUOTE}".replace("\n", "\r\n"),
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_the_new_part_is_kept_alone(text: str) -> None:
    assert strip_quoted_reply(text) == NEW


def test_answers_between_quoted_lines_are_kept() -> None:
    text = "> Which model is it?\nThe X200.\n\n> Since when?\nYesterday.\n"

    assert strip_quoted_reply(text) == "The X200.\n\nYesterday."


def test_an_answer_below_the_quote_is_kept() -> None:
    text = f"On Mon, Jun 3, 2024 at 10:12 AM Support <s@example.com> wrote:\n{QUOTE}\n{NEW}\n"

    assert strip_quoted_reply(text) == NEW


@pytest.mark.parametrize(
    "text",
    [
        "Le livreur a écrit :\nil passera demain.",  # no date: no attribution
        "On the box it was written:\nfragile",
        "From: Paris\nTo: Lyon, the parcel took 3 days.",  # no Sent/Envoyé field
    ],
)
def test_sentences_that_only_look_like_quotes_are_kept(text: str) -> None:
    assert strip_quoted_reply(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "See below.\n\n---------- Forwarded message ---------\nFrom: Carrier <c@example.com>\n"
        "Date: Mon, Jun 3, 2024 at 9:00 AM\nSubject: Delivery failed\nTo: <jane@example.com>\n\n"
        "We could not deliver parcel 1234.",
        "Voir ci-dessous.\n\n________________________________\nDe : Transporteur\n"
        "Envoyé : lundi 3 juin 2024 09:00\nÀ : Jane\nObjet : TR : Livraison impossible\n\n"
        "Nous n'avons pas pu livrer le colis 1234.",
        "Voir ci-dessous.\n\nDébut du message réexpédié :\n\nDe: Transporteur <t@example.com>\n"
        "Objet: Livraison impossible\nDate: 3 juin 2024 à 09:00:00 UTC+2\nÀ: Jane\n\nColis 1234.",
    ],
)
def test_a_forwarded_message_is_content_and_kept(text: str) -> None:
    assert strip_quoted_reply(text) == text


def test_a_message_that_is_only_a_quote_is_shown_whole() -> None:
    assert strip_quoted_reply("\n> just the quote\n") == "> just the quote"


@pytest.mark.timeout(10)  # backtracking on a long "From: … Sent: …" line would take minutes
def test_long_lines_that_look_like_headers_stay_linear() -> None:
    text = "From: x" + " Sent: y" * 20_000 + "\n" + "On 1, " + "x" * 100_000 + " wrote:"

    assert strip_quoted_reply(text) == text
