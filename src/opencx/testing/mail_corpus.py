"""A support mailbox's mail, made from a seed: the shapes real clients send, so that
intake is measured and tested on more than one-line plain-text messages.

Rules:
- the same ``(count, seed)`` always gives the same bytes (boundaries, ids and dates
  included): nothing reads the clock or an unseeded random source;
- every message has its own Message-ID; a reply's ``In-Reply-To`` is the message it
  answers and its ``References`` that message's references plus its id, as clients
  write them, and it comes at least ``min_gap`` messages after it (a reply is written
  once the original was read, never alongside it);
- shapes: plain text; text and HTML (``multipart/alternative``); HTML with inline
  images (``multipart/related``, ``cid:`` references, real PNG bytes); attachments
  (a PDF, a ``.docx`` zip, a CSV, under ``multipart/mixed``); bodies in UTF-8,
  ISO-8859-1 or windows-1252, quoted-printable or base64; French subjects, names and
  file names encoded as RFC 2047 and RFC 2231 say;
- senders come from a pool of known customers who write several times, and new ones
  who write once; a reply is written by the original's sender, or a colleague;
- the files are 7-bit clean (quoted-printable or base64 bodies), as mail servers that
  do not advertise 8BITMIME receive them.
"""

from __future__ import annotations

import base64
import io
import mailbox
import quopri
import random
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import format_datetime, formataddr
from enum import StrEnum
from pathlib import Path

__all__ = ["Corpus", "CorpusMail", "Shape", "make_corpus", "png", "wire"]


class Shape(StrEnum):
    PLAIN = "plain"
    ALTERNATIVE = "alternative"
    INLINE_IMAGES = "inline_images"
    ATTACHMENTS = "attachments"


@dataclass(frozen=True, slots=True)
class CorpusMail:
    """One message: its id (without brackets), sender address, shape, the id of the
    message it answers (``None`` for a first message) and its bytes as a file holds
    them (LF line ends)."""

    message_id: str
    sender: str
    shape: Shape
    answers: str | None
    raw: bytes


@dataclass(frozen=True, slots=True)
class Corpus:
    mailbox: str
    mails: tuple[CorpusMail, ...]

    @property
    def replies(self) -> dict[str, str]:
        """Each reply's id and the id of the message it answers."""
        return {m.message_id: m.answers for m in self.mails if m.answers is not None}

    def write_maildir(self, path: Path) -> list[str]:
        """The messages as a maildir's new mail at ``path``, in order; their keys."""
        box = mailbox.Maildir(path, create=True)
        return [box.add(mail.raw) for mail in self.mails]


def wire(raw: bytes) -> bytes:
    """A file's message as SMTP carries it: CRLF line ends."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


_FIRST = (
    "Hélène", "François", "Amélie", "Jérôme", "Cécile", "Loïc", "Agnès", "Stéphane",
    "Émilie", "Noël", "Inès", "Benoît", "Chloé", "Raphaël", "Zoé", "Gaëlle", "Marc",
    "Sophie", "Thomas", "Julie",
)  # fmt: skip
_LAST = (
    "Dupré", "Lefèvre", "Bérard", "Gérard", "Moreau", "Façon", "Müller", "Rivière",
    "Lemaître", "Côté", "Garnier", "Boulanger", "Perrin", "Mercier", "Chevalier",
)  # fmt: skip
_DOMAINS = (
    "orange.fr", "free.fr", "laposte.net", "gmail.com", "wanadoo.fr", "outlook.fr",
    "societe-exemple.fr", "mairie-exemple.fr",
)  # fmt: skip
_SUBJECTS = (
    "Réclamation facture n°{n}",
    "Problème de livraison — commande {n}",
    "Demande de remboursement {n}",
    "Colis endommagé (commande n°{n})",
    "Question sur mon abonnement",
    "Changement d'adresse de livraison",
    "Erreur sur le montant prélevé",
    "Retour produit défectueux – réf. {n}",
    "Où en est ma commande {n} ?",
    "Résiliation du contrat {n}",
)
_OPENINGS = (
    "Bonjour,\n\nJe vous écris au sujet de ma commande {n} : le colis n'est toujours "
    "pas arrivé alors que le suivi indique « livré » depuis trois jours.",
    "Madame, Monsieur,\n\nLa facture n°{n} reçue ce matin comporte une erreur : le "
    "montant prélevé (149,90 €) ne correspond pas au devis accepté (129,90 €).",
    "Bonjour,\n\nLe produit reçu (réf. {n}) est défectueux : l'écran reste noir après "
    "la mise sous tension. Je souhaite un échange ou un remboursement.",
    "Bonjour,\n\nPourriez-vous me confirmer la résiliation de mon contrat {n} ? "
    "J'ai envoyé le courrier recommandé le 2 décembre.",
    "Bonjour,\n\nJe déménage le 15 : merci de livrer désormais au 12, rue de la Paix, "
    "75002 Paris (2ᵉ étage, code 4521).",
)
_FOLLOW_UPS = (
    "Bonjour,\n\nJe me permets de relancer : toujours aucune nouvelle de votre part.",
    "Merci pour votre retour. Voici la photo du colis abîmé et le bon de livraison.",
    "Bonjour,\n\nJe transfère la demande de mon collègue, qui n'a pas reçu de réponse.",
    "Re-bonjour,\n\nJ'ai oublié de préciser : le numéro client est le {n}. Cordialement.",
    "Bonjour,\n\nC'est réglé de mon côté, vous pouvez clore la demande. Merci !",
)
_SIGNATURES = (
    "Cordialement,\n{name}",
    "Bien à vous,\n{name}\nTél. : 06 12 34 56 78",
    "Merci d'avance,\n{name}\n\n--\nEnvoyé de mon iPhone",
)
_MAILERS = (
    ("X-Mailer", "Microsoft Outlook 16.0"),
    ("User-Agent", "Mozilla Thunderbird 115.5.0"),
    ("X-Mailer", "iPhone Mail (21B101)"),
    ("X-Mailer", "Zimbra 9.0.0_GA_4583 (ZimbraWebClient - FF120)"),
    ("User-Agent", "Roundcube Webmail/1.6.5"),
)
_REPLY_PREFIXES = ("Re: ", "RE : ", "RE: ", "Re : ", "TR: ", "Fwd: ")
_CHARSETS = ("utf-8", "utf-8", "iso-8859-1", "windows-1252")
_SHAPES = (Shape.PLAIN, Shape.ALTERNATIVE, Shape.INLINE_IMAGES, Shape.ATTACHMENTS)
_SHAPE_WEIGHTS = (30, 35, 15, 20)


@dataclass(frozen=True, slots=True)
class _Person:
    name: str
    address: str


@dataclass(slots=True)
class _Written:
    message_id: str
    subject: str
    text: str
    sender: _Person
    date: datetime
    references: tuple[str, ...]


class _Writer:
    """Writes one corpus, message by message, from one seeded random source."""

    def __init__(self, *, seed: int, mailbox: str, known: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible mail, not secrets
        self.mailbox = mailbox
        self.date = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
        self.made = 0
        self.known = [self._person() for _ in range(known)]

    def _person(self) -> _Person:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        local = f"{first}.{last}".lower().translate(_ASCII)
        self.made += 1
        return _Person(f"{first} {last}", f"{local}.{self.made}@{self.rng.choice(_DOMAINS)}")

    def sender(self, *, new_share: float) -> _Person:
        if self.rng.random() < new_share:
            return self._person()
        # A few customers write far more often than the rest, as in a real mailbox.
        return self.known[min(int(self.rng.expovariate(6 / len(self.known))), len(self.known) - 1)]

    def first(self, n: int, sender: _Person) -> _Written:
        number = self.rng.randrange(10_000, 99_999)
        subject = self.rng.choice(_SUBJECTS).format(n=number)
        body = self.rng.choice(_OPENINGS).format(n=number)
        return self._written(n, sender, subject, body, references=())

    def reply(self, n: int, sender: _Person, to: _Written) -> _Written:
        prefix = self.rng.choice(_REPLY_PREFIXES)
        subject = prefix + re.sub(r"^((re|tr|fwd)\s?:\s*)+", "", to.subject, flags=re.I)
        said = "\n".join(f"> {line}" for line in to.text.splitlines())
        when = format_datetime(to.date)
        body = self.rng.choice(_FOLLOW_UPS).format(n=self.rng.randrange(100_000, 999_999))
        body += f"\n\nLe {when}, {to.sender.name} <{to.sender.address}> a écrit :\n{said}"
        return self._written(n, sender, subject, body, references=(*to.references, to.message_id))

    def _written(
        self, n: int, sender: _Person, subject: str, body: str, *, references: tuple[str, ...]
    ) -> _Written:
        self.date += timedelta(seconds=self.rng.randrange(20, 900))
        signature = self.rng.choice(_SIGNATURES).format(name=sender.name)
        domain = sender.address.rsplit("@", 1)[1]
        message_id = f"{self.rng.getrandbits(64):016x}.{n}@{domain}"
        text = f"{body}\n\n{signature}\n"
        return _Written(message_id, subject, text, sender, self.date, references)

    def message(self, written: _Written, shape: Shape) -> Message:
        charset = self.rng.choice(_CHARSETS)
        cte = self.rng.choice(("quoted-printable", "base64"))
        text = _encodable(written.text, charset)
        message: Message
        if shape is Shape.PLAIN:
            message = _text(text, "plain", charset, cte)
        elif shape is Shape.ALTERNATIVE:
            message = self._alternative(written, text, charset, cte)
        elif shape is Shape.INLINE_IMAGES:
            message = self._related(written, text, charset, cte)
        else:
            message = self._mixed(written, text, charset, cte)
        for part in message.walk():
            del part["MIME-Version"]  # the standard library's parts each carry one
        self._headers(message, written, charset)
        return message

    def _alternative(self, written: _Written, text: str, charset: str, cte: str) -> Message:
        alternative = MIMEMultipart("alternative", boundary=_boundary(written, "alt"))
        alternative.attach(_text(text, "plain", charset, cte))
        alternative.attach(_text(_html(text, images=()), "html", charset, cte))
        return alternative

    def _related(self, written: _Written, text: str, charset: str, cte: str) -> Message:
        """HTML only, as some webmails send it: a logo and a photo shown inline."""
        cids = [f"image{k:03d}.png@{written.message_id.split('@')[0][:8]}" for k in range(2)]
        related = MIMEMultipart("related", boundary=_boundary(written, "rel"))
        related.attach(_text(_html(text, images=cids), "html", charset, cte))
        for k, cid in enumerate(cids):
            width, height = (120, 40) if k == 0 else (self.rng.randrange(64, 200),) * 2
            image = MIMEBase("image", "png", name=f"image{k:03d}.png")
            image.set_payload(base64.encodebytes(png(width, height, seed=self.rng.random())))
            image["Content-Transfer-Encoding"] = "base64"
            image["Content-ID"] = f"<{cid}>"
            image.add_header("Content-Disposition", "inline", filename=f"image{k:03d}.png")
            related.attach(image)
        return related

    def _mixed(self, written: _Written, text: str, charset: str, cte: str) -> Message:
        mixed = MIMEMultipart("mixed", boundary=_boundary(written, "mix"))
        mixed.attach(self._alternative(written, text, charset, cte))
        files = [
            ("application", "pdf", "Facture n°{n}.pdf", _pdf),
            ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document",
             "Réclamation {n}.docx", _docx),
            ("text", "csv", "relevé_{n}.csv", _csv),
        ]  # fmt: skip
        for maintype, subtype, name, make in self.rng.sample(files, self.rng.randrange(1, 4)):
            filename = name.format(n=self.rng.randrange(1000, 9999))
            part = MIMEBase(maintype, subtype)
            if maintype == "text":
                part.set_param("charset", "utf-8")
            part.set_payload(base64.encodebytes(make(self.rng)))
            part["Content-Transfer-Encoding"] = "base64"
            part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
            mixed.attach(part)
        return mixed

    def _headers(self, message: Message, written: _Written, charset: str) -> None:
        """The headers a client and the receiving server write, the trace first and
        the MIME headers last, as they stand in a delivered message."""
        content = [
            (k, v) for k, v in message.items() if k.lower().startswith(("content-", "mime-"))
        ]
        for name, _ in content:
            del message[name]
        message["Return-Path"] = f"<{written.sender.address}>"
        relay = written.sender.address.rsplit("@", 1)[1]
        message["Received"] = (
            f"from mail.{relay} (mail.{relay} [192.0.2.{self.made % 250}])"
            f" by mx.example.com with ESMTPS; {format_datetime(written.date)}"
        )
        message["From"] = formataddr((written.sender.name, written.sender.address), charset=charset)
        message["To"] = f"Service client <{self.mailbox}>"
        subject = _encodable(written.subject, charset)
        # A Header, not its encoded string: the generator folds it between encoded words.
        message["Subject"] = subject if subject.isascii() else Header(subject, charset)  # type: ignore[assignment]
        message["Date"] = format_datetime(written.date)
        message["Message-ID"] = f"<{written.message_id}>"
        if written.references:
            message["In-Reply-To"] = f"<{written.references[-1]}>"
            message["References"] = " ".join(f"<{ref}>" for ref in written.references)
        name, value = self.rng.choice(_MAILERS)
        message[name] = value
        message["Content-Language"] = "fr-FR"
        message["MIME-Version"] = "1.0"
        for name, value in content:
            if name.lower() != "mime-version":
                message[name] = value


_ASCII = str.maketrans("éèêëàâäîïôöûüùçæœÉ", "eeeeaaaiioouuucaoe")


def make_corpus(
    count: int = 500,
    *,
    seed: int = 0,
    mailbox: str = "support@example.com",
    reply_share: float = 0.4,
    new_sender_share: float = 0.35,
    known_senders: int = 60,
    min_gap: int = 8,
) -> Corpus:
    """``count`` messages to ``mailbox``, ``reply_share`` of them replies to earlier
    ones (none among the first ``min_gap``)."""
    writer = _Writer(seed=seed, mailbox=mailbox, known=known_senders)
    written: list[_Written] = []
    mails: list[CorpusMail] = []
    for n in range(count):
        answers: _Written | None = None
        if n >= min_gap and writer.rng.random() < reply_share:
            answers = written[writer.rng.randrange(0, n - min_gap + 1)]
        if answers is None:
            one = writer.first(n, writer.sender(new_share=new_sender_share))
        else:
            colleague = writer.rng.random() < 0.3
            sender = writer.sender(new_share=new_sender_share) if colleague else answers.sender
            one = writer.reply(n, sender, answers)
        shape = writer.rng.choices(_SHAPES, weights=_SHAPE_WEIGHTS)[0]
        raw = writer.message(one, shape).as_bytes()
        written.append(one)
        mails.append(
            CorpusMail(
                one.message_id,
                one.sender.address,
                shape,
                answers.message_id if answers else None,
                raw,
            )
        )
    return Corpus(mailbox, tuple(mails))


def _text(text: str, subtype: str, charset: str, cte: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset=charset)
    data = text.encode(charset)
    encoded = base64.encodebytes(data) if cte == "base64" else quopri.encodestring(data)
    part.set_payload(encoded.decode("ascii"))
    part["Content-Transfer-Encoding"] = cte
    return part


def _encodable(text: str, charset: str) -> str:
    """``text`` as a client writing in ``charset`` would have it: what the charset
    cannot write becomes its nearest plain character."""
    if charset == "utf-8":
        return text
    plain = "".join(_PLAIN.get(c, c) for c in text)
    return plain.encode(charset, errors="replace").decode(charset)


_PLAIN = {"ᵉ": "e", "—": "-", "–": "-", "€": "EUR", "œ": "oe", "’": "'"}


def _html(text: str, *, images: list[str] | tuple[str, ...]) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    style = "font-family:Calibri,sans-serif"
    paragraphs = "".join(
        f'<p class="MsoNormal" style="{style}">{block.replace(chr(10), "<br>")}</p>\n'
        for block in escaped.split("\n\n")
    )
    shown = "".join(f'<img src="cid:{cid}" alt="image">\n' for cid in images)
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html">'
        "<style>p.MsoNormal{margin:0}</style></head>\n"
        f'<body lang="FR">\n{paragraphs}{shown}</body></html>\n'
    )


def _boundary(written: _Written, kind: str) -> str:
    return f"----=_{kind}_{written.message_id.split('@')[0]}"


def png(width: int, height: int, *, seed: float = 0.0) -> bytes:
    """A real PNG image: an RGB gradient of ``width`` by ``height`` pixels."""
    shift = int(seed * 255)
    rows = b"".join(
        b"\x00"
        + bytes(
            v
            for x in range(width)
            for v in ((x * 255 // width + shift) % 256, y * 255 // height, (x + y) % 256)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def _pdf(rng: random.Random) -> bytes:
    """A small, well-formed PDF of one page, padded with a compressed stream of noise
    so sizes vary as scanned invoices do (10 to 150 KB)."""
    noise = zlib.compress(rng.randbytes(rng.randrange(10_000, 150_000)), 0)
    text = b"BT /F1 12 Tf 72 720 Td (Facture) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(noise), noise),
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _docx(rng: random.Random) -> bytes:
    """A minimal Word document: the zip layout Word opens."""
    words = " ".join(rng.choice(("réclamation", "colis", "facture", "délai")) for _ in range(200))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as docx:
        docx.writestr(
            _zipped("[Content_Types].xml"),
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="xml" ContentType="application/'
            'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        docx.writestr(
            _zipped("word/document.xml"),
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
            'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
            f"{words}</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def _zipped(name: str) -> zipfile.ZipInfo:
    """A member dated as the corpus is, not now: the same seed gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2026, 12, 7, 8, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _csv(rng: random.Random) -> bytes:
    lines = ["date;libellé;montant"]
    for k in range(rng.randrange(5, 60)):
        lines.append(
            f"2026-11-{k % 28 + 1:02d};Prélèvement n°{k};{rng.randrange(100, 99999) / 100:.2f}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
