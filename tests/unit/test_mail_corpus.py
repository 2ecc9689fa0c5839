"""The mail corpus the intake bench and tests share: every message reads as e-mail, to
the standard library and to our parser, in the shapes, charsets and threads promised."""

from __future__ import annotations

import io
import mailbox
import zipfile
import zlib
from collections import Counter
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from opencx.providers.email import parse_email
from opencx.testing.mail_corpus import Corpus, Shape, make_corpus, wire

MAILBOX = "support@example.com"


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus(120, seed=7, mailbox=MAILBOX)


def read(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_mail() -> None:
    assert make_corpus(30, seed=3) == make_corpus(30, seed=3)
    assert make_corpus(30, seed=3).mails[0].raw != make_corpus(30, seed=4).mails[0].raw


def test_every_message_has_its_own_message_id_which_our_parser_reads(corpus: Corpus) -> None:
    ids = [mail.message_id for mail in corpus.mails]
    assert len(set(ids)) == len(ids)
    for mail in corpus.mails:
        parsed = parse_email(wire(mail.raw), recipient=MAILBOX)
        assert parsed.provider_message_id == mail.message_id
        assert parsed.sender.value == mail.sender
        assert "unparsed" not in parsed.flags
        assert parsed.text.strip()


def test_a_reply_names_the_message_it_answers_which_came_well_before(corpus: Corpus) -> None:
    position = {mail.message_id: n for n, mail in enumerate(corpus.mails)}
    replies = corpus.replies
    assert 0.25 < len(replies) / len(corpus.mails) < 0.55
    for mail in corpus.mails:
        message = read(mail.raw)
        if mail.answers is None:
            assert message["In-Reply-To"] is None
            continue
        assert position[mail.answers] <= position[mail.message_id] - 8
        assert message["In-Reply-To"] == f"<{mail.answers}>"
        assert str(message["References"]).split()[-1] == f"<{mail.answers}>"
        assert str(message["Subject"]).startswith(
            ("Re: ", "RE : ", "RE: ", "Re : ", "TR: ", "Fwd: ")
        )
        assert mail.answers in parse_email(mail.raw, recipient=MAILBOX).thread_refs
    # Replies to replies: References chains longer than one id.
    assert any(len(str(read(m.raw)["References"]).split()) > 1 for m in corpus.mails if m.answers)


def test_known_senders_write_several_times_and_new_ones_once(corpus: Corpus) -> None:
    writes = Counter(mail.sender for mail in corpus.mails)
    assert any(count >= 4 for count in writes.values())
    assert sum(1 for count in writes.values() if count == 1) >= 20


def test_bodies_come_in_three_charsets_and_two_encodings_seven_bit_clean(corpus: Corpus) -> None:
    charsets: set[str] = set()
    encodings: set[str] = set()
    for mail in corpus.mails:
        assert mail.raw.isascii()
        for part in read(mail.raw).walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                charsets.add(str(part.get_content_charset()))
                encodings.add(str(part["Content-Transfer-Encoding"]))
                assert "\ufffd" not in part.get_content()  # each decodes in its charset
    assert charsets == {"utf-8", "iso-8859-1", "windows-1252"}
    assert encodings == {"quoted-printable", "base64"}


def test_french_subjects_and_names_are_encoded_words_that_decode(corpus: Corpus) -> None:
    encoded = [m for m in corpus.mails if b"Subject: =?" in m.raw]
    assert encoded
    decoded = {str(read(m.raw)["Subject"]) for m in encoded}
    assert any("Réclamation facture n°" in s or "Problème de livraison" in s for s in decoded)
    assert any(b"From: =?" in m.raw for m in corpus.mails)
    texts = [parse_email(m.raw, recipient=MAILBOX).text for m in corpus.mails[:20]]
    assert any("é" in text for text in texts)


def test_each_shape_has_the_structure_real_clients_send(corpus: Corpus) -> None:
    shapes = Counter(mail.shape for mail in corpus.mails)
    assert set(shapes) == set(Shape)
    for mail in corpus.mails:
        message = read(mail.raw)
        if mail.shape is Shape.PLAIN:
            assert message.get_content_type() == "text/plain"
        elif mail.shape is Shape.ALTERNATIVE:
            assert message.get_content_type() == "multipart/alternative"
            kinds = [p.get_content_type() for p in message.iter_parts()]
            assert kinds == ["text/plain", "text/html"]
        elif mail.shape is Shape.INLINE_IMAGES:
            assert_inline_images(message)
        else:
            assert_attachments(message, mail.raw)


def assert_inline_images(message: EmailMessage) -> None:
    assert message.get_content_type() == "multipart/related"
    html, *images = message.iter_parts()
    assert html.get_content_type() == "text/html"
    assert images
    for image in images:
        cid = str(image["Content-ID"]).strip("<>")
        assert f"cid:{cid}" in html.get_content()
        data = image.get_content()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        idat = data.index(b"IDAT")
        size = int.from_bytes(data[idat - 4 : idat], "big")
        zlib.decompress(data[idat + 4 : idat + 4 + size])  # real image data


def assert_attachments(message: EmailMessage, raw: bytes) -> None:
    assert message.get_content_type() == "multipart/mixed"
    files = list(message.iter_attachments())
    assert files
    parsed = {a.filename: a for a in parse_email(raw, recipient=MAILBOX).attachments}
    for part in files:
        name = str(part.get_filename())
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        assert parsed[name].data == data
        if name.endswith(".pdf"):
            assert name.startswith("Facture n°")
            assert data.startswith(b"%PDF-1.4")
            assert data.rstrip().endswith(b"%%EOF")
        elif name.endswith(".docx"):
            assert "word/document.xml" in zipfile.ZipFile(io.BytesIO(data)).namelist()
        else:
            assert name.startswith("relevé_")
            assert name.endswith(".csv")
            assert data.decode("utf-8").startswith("date;libellé;montant")


def test_the_maildir_holds_the_messages_in_order(corpus: Corpus, tmp_path: Path) -> None:
    keys = corpus.write_maildir(tmp_path / "box")
    box = mailbox.Maildir(tmp_path / "box", create=False)
    assert [box.get_bytes(key) for key in keys] == [mail.raw for mail in corpus.mails]
