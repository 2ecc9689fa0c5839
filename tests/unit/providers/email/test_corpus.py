"""Each recorded message reads as its sender meant it: who, what, the thread, the files."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from opencx.core.enums import Channel, IdentityKind
from opencx.providers.base import InboundMessage, Sender
from opencx.providers.email import parse_email

from .corpus import NAMES, SUPPORT, parse, raw

SHOP_1 = "20240601083000.1a2b3c@shop.example.com"
SHOP_2 = "20240602091500.4d5e6f@shop.example.com"


def test_the_corpus_has_every_client() -> None:
    assert len(NAMES) == 9


@pytest.mark.parametrize("name", NAMES)
def test_every_message_is_an_email_from_someone(name: str) -> None:
    message = parse(name)

    assert message.channel is Channel.EMAIL
    assert message.provider == "smtp"
    assert message.recipient == SUPPORT
    assert message.sender.kind is IdentityKind.EMAIL
    assert "@" in message.sender.value
    assert message.sender.value == message.sender.value.lower()
    assert message.text.strip()
    assert "\x00" not in message.text


@pytest.mark.parametrize("name", NAMES)
def test_crlf_line_endings_read_the_same(name: str) -> None:
    lf = parse(name)
    crlf = parse_email(raw(name).replace(b"\n", b"\r\n"), recipient=SUPPORT)

    assert (crlf.text, crlf.subject, crlf.sender, crlf.thread_refs, crlf.flags) == (
        lf.text,
        lf.subject,
        lf.sender,
        lf.thread_refs,
        lf.flags,
    )
    assert [a.data for a in crlf.attachments] == [a.data for a in lf.attachments]


def test_gmail_reply_with_an_inline_image() -> None:
    message = parse("gmail_alternative_inline_image.eml")

    assert message.sender == Sender(IdentityKind.EMAIL, "jane.doe@gmail.com", "Jane Doe")
    assert message.provider_message_id == "CAF7x9kPz+QmB2vXo3Yk0Lr=5dTq8hN3uVw@mail.gmail.com"
    assert message.subject == "Re: Order 1234 arrived damaged [#42]"
    assert message.sent_at == datetime(2024, 6, 3, 8, 20, 29, tzinfo=UTC)
    assert message.thread_refs == (SHOP_1, SHOP_2)
    assert message.metadata["subject_token"] == 42
    # the plain alternative is the text; its quote (attribution wrapped by Gmail) is gone
    assert message.text == (
        "Hi,\n\nHere is a photo of the box as it arrived:\n[image: box.jpg]\n\n"
        "The mug inside is broken. Can you send a new one?\n\nThanks,\nJane"
    )
    assert "Could you send us a photo of the parcel?" in message.metadata["full_text"]
    assert message.html is not None
    assert '<img src="cid:ii_lx0k2m3a0"' in message.html
    [image] = message.attachments
    assert (image.filename, image.content_type) == ("box.jpg", "image/jpeg")
    assert (image.content_id, image.inline) == ("ii_lx0k2m3a0", True)
    assert image.data is not None
    assert image.data.startswith(b"\xff\xd8\xff")
    assert message.flags == frozenset()


def test_outlook_reply_in_french_windows_1252() -> None:
    message = parse("outlook_fr_windows1252.eml")

    assert message.sender == Sender(IdentityKind.EMAIL, "renee.dupre@entreprise.fr", "Dupré, Renée")
    assert message.subject == "RE : Commande n°1234 – remboursement [#42]"
    assert message.text == (
        "Bonjour,\n\n"
        "Je n’ai toujours pas reçu le remboursement de 49,90 € annoncé la semaine dernière.\n"
        "Pouvez-vous vérifier ?\n\n"
        "Cordialement,\nRenée Dupré"
    )
    assert "Envoyé : dimanche 2 juin 2024 11:15" in message.metadata["full_text"]
    assert message.metadata["cc"] == ("compta@entreprise.fr",)
    assert message.metadata["to"] == (SUPPORT,)
    assert message.thread_refs == (SHOP_2,)
    assert message.metadata["subject_token"] == 42
    assert message.html is not None
    assert "Madame Dupré" in message.html
    assert message.flags == frozenset()


def test_apple_mail_attachment_named_in_rfc_2231_continuations() -> None:
    message = parse("apple_mail_rfc2231_filename.eml")

    assert message.sender == Sender(IdentityKind.EMAIL, "andre.martin@icloud.com", "André Martin")
    assert message.subject == "Réclamation facture juin"
    [invoice] = message.attachments
    # decoded, joined, and composed to NFC although macOS sent a decomposed "é"
    assert invoice.filename == "Facture juin 2024 – commande 1234 (copie signée).pdf"
    assert invoice.content_type == "application/pdf"
    assert invoice.data is not None
    assert invoice.data.startswith(b"%PDF-1.4")
    assert not invoice.inline
    # the text parts around the attachment are one text; the quote below it is gone
    assert message.text == (
        "Bonjour,\n\nVous trouverez ci-joint la facture avec l’erreur de montant : la ligne "
        "«\u00a0frais de port\u00a0» est comptée deux fois.\n\nAndré"
    )
    assert "> Pourriez-vous nous envoyer la facture concernée ?" in message.metadata["full_text"]


def test_thunderbird_iso_8859_1_quoted_printable_flowed() -> None:
    message = parse("thunderbird_latin1_quoted_printable.eml")

    assert message.sender == Sender(
        IdentityKind.EMAIL, "francois.leger@orange.fr", "François Léger"
    )
    assert message.subject == "Re: Retard de livraison à Montréal [#57]"
    assert message.metadata["subject_token"] == 57
    # format=flowed: the soft line break is joined; the signature and the quote are gone
    assert message.text == (
        "Bonjour,\n\nLe colis n'est toujours pas arrivé à Montréal. Le suivi indique "
        "« en transit » depuis le 28 mai.\n\nMerci de me tenir informé."
    )
    assert "François Léger\n06 12 34 56 78" in message.metadata["full_text"]
    assert message.sent_at == datetime(2024, 6, 3, 14, 40, 2, tzinfo=UTC)


def test_html_only_newsletter_reads_as_clean_text() -> None:
    message = parse("newsletter_html_only.eml")

    assert message.subject == "🌞 Les soldes d’été commencent !"
    assert message.text == (
        "Les soldes d’été commencent !\n\n"
        "Bonjour,\n\n"
        "Profitez de nos offres jusqu’au 30 juin :\n\n"
        "- Coussins & plaids : -30 %\n"
        "- Luminaires : -50 %\n\n"
        "Voir les offres (https://www.deco-example.com/soldes"
        "?utm_source=newsletter&utm_medium=email)\n\n"
        "Ou copiez ce lien : https://www.deco-example.com/soldes\n\n"
        "Vous recevez ce courriel car vous êtes inscrit(e) à notre lettre.\n"
        "Se désabonner (https://deco-example.us1.list-manage.com/unsubscribe"
        "?u=5f1e2d3c&id=9a8b7c)"
    )
    assert message.html is not None
    assert message.metadata["reply_to"] == ("contact@deco-example.com",)
    assert message.flags == {"auto_submitted", "bulk"}


def test_out_of_office_reply_is_automatic_not_a_bounce() -> None:
    message = parse("out_of_office_fr_auto_submitted.eml")

    assert message.flags == {"auto_submitted"}  # a null Return-Path, but it says so
    assert message.subject == "Absence du bureau : RE : Commande n°1234 [#42]"
    assert message.metadata["subject_token"] == 42
    assert message.text.startswith("Absence du bureau\n\nBonjour,\n\nJe suis absente")
    assert message.thread_refs == (SHOP_2, "20240603091000.7a8b9c@shop.example.com")


def test_delivery_status_bounce_names_the_failed_recipient_and_message() -> None:
    message = parse("bounce_delivery_status.eml")

    assert message.flags == {"bounce", "auto_submitted"}
    assert message.sender.value == "mailer-daemon@mx1.shop.example.com"
    assert message.metadata["bounce"] == {
        "recipients": (
            {
                "final_recipient": "jane.doe@exmaple.com",
                "action": "failed",
                "status": "5.1.1",
                "diagnostic_code": "smtp; 550 5.1.1 <jane.doe@exmaple.com>: Recipient "
                "address rejected: User unknown in virtual mailbox table",
            },
        ),
        "returned_message_id": "20240603083100.9f8e7d@shop.example.com",
    }
    assert message.text.startswith("This is the mail system at host mx1.shop.example.com.")
    report, returned = message.attachments
    assert (report.filename, report.content_type) == (
        "delivery-status.txt",
        "message/delivery-status",
    )
    assert (returned.filename, returned.content_type) == ("message.eml", "message/rfc822")
    assert returned.data is not None
    assert b"Message-ID: <20240603083100.9f8e7d@shop.example.com>" in returned.data


def test_message_without_id_or_date_gets_a_stable_id() -> None:
    data = raw("no_message_id_no_date_8bit.eml")
    message = parse("no_message_id_no_date_8bit.eml")

    assert message.provider_message_id == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert parse("no_message_id_no_date_8bit.eml").provider_message_id == (
        message.provider_message_id
    )  # a redelivery is recognised
    assert message.metadata["message_id"] is None
    assert message.sent_at is None
    # no Content-Type and raw 8-bit UTF-8, in the body and in the Subject
    assert message.subject == "Où en est ma commande ?"
    assert message.text.startswith("Bonjour,\n\noù en est ma commande 1234 passée le 28 mai ?")
    assert message.flags == frozenset()


def test_broken_message_is_kept_with_what_could_be_read() -> None:
    message: InboundMessage = parse("broken_bogus_charset_truncated.eml")

    assert "unparsed" in message.flags
    assert "CloseBoundaryNotFoundDefect" in message.metadata["defects"]
    assert message.provider_message_id == "broken-1@example.com"
    # an unknown charset: the bytes read as windows-1252, the euro sign included
    assert message.text == "Voici la facture de décembre : 120 € TTC."
    [invoice] = message.attachments
    assert invoice.filename == "facture.pdf"
    assert invoice.data is not None
    assert invoice.data.startswith(b"%PDF-1.4")
