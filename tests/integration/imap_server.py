"""A private Dovecot IMAP server for tests, started from its own configuration in a
temporary directory and stopped at the end.

It listens on 127.0.0.1 on two free ports: ``port`` (plain IMAP, which also offers
STARTTLS) and ``tls_port`` (IMAP over TLS), with a self-signed certificate for
127.0.0.1 that clients trust through ``SSL_CERT_FILE``. Users live in a passwd-file
(plaintext passwords, all written before it starts: Dovecot reads the file again at
most once a second), their mail in Maildir folders. Failed logins are answered at once
(no authentication penalty), so a test of a wrong password slows no other test.
Dovecot 2.3 and 2.4 (whose configuration syntax differs) are both handled.

Import ``dovecot_server`` into a test module to use the ``dovecot`` fixture. Without
Dovecot (``apt install dovecot-imapd``) the tests that use it are skipped, except in CI
(``CI`` set), where they fail.
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import imaplib
import itertools
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["DovecotServer", "ImapUser", "dovecot_server"]

HOST = "127.0.0.1"
#: How long Dovecot may take to answer its first greeting.
START_TIMEOUT = 20.0
#: Users made ready for a module's tests (one or two per test).
USERS = 50


@dataclass(frozen=True)
class ImapUser:
    """A mailbox on the server, with what a test needs to look into it."""

    server: DovecotServer
    username: str
    password: str

    @contextlib.contextmanager
    def connect(self) -> Iterator[imaplib.IMAP4]:
        imap = imaplib.IMAP4(HOST, self.server.port, timeout=10)
        try:
            imap.login(self.username, self.password)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, raw: bytes, *, folder: str = "INBOX", flags: str = "") -> int:
        """Put a message in ``folder`` as a mail client or delivery agent would; its UID."""
        with self.connect() as imap:
            status, data = imap.append(folder, f"({flags})" if flags else None, None, raw)
            assert status == "OK", data
        found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        assert found, data
        return int(found.group(1))

    def flags(self, *, folder: str = "INBOX") -> dict[int, set[str]]:
        """Each message's flags in ``folder``, by UID."""
        with self.connect() as imap:
            status, _ = imap.select(folder, readonly=True)
            assert status == "OK", folder
            status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
        found: dict[int, set[str]] = {}
        for line in data:
            if isinstance(line, bytes):
                match = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line)
                if match:
                    found[int(match.group(1))] = set(match.group(2).decode().split())
        return found

    def uidvalidity(self, *, folder: str = "INBOX") -> int:
        with self.connect() as imap:
            status, data = imap.status(folder, "(UIDVALIDITY)")
        assert status == "OK", data
        found = re.search(rb"UIDVALIDITY (\d+)", data[0] or b"")
        assert found, data
        return int(found.group(1))

    def recreate(self, folder: str) -> None:
        """Delete ``folder`` and make it again: the server gives it a new UIDVALIDITY."""
        with self.connect() as imap:
            assert imap.delete(folder)[0] == "OK"
            assert imap.create(folder)[0] == "OK"


@dataclass
class DovecotServer:
    root: Path
    port: int
    tls_port: int
    cert_file: Path
    version: tuple[int, int]
    process: subprocess.Popen[bytes] | None = None
    users: list[ImapUser] = field(default_factory=list)
    _handed_out: Iterator[int] = field(default_factory=lambda: itertools.count())

    @property
    def passwd_file(self) -> Path:
        return self.root / "passwd"

    @property
    def log_file(self) -> Path:
        return self.root / "dovecot.log"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def add_user(self) -> ImapUser:
        """A user no other test had: an empty mailbox, and a password of its own."""
        index = next(self._handed_out)
        assert index < len(self.users), f"more than {USERS} IMAP users: raise USERS"
        return self.users[index]

    def _write_users(self) -> None:
        uid, gid = _mail_ids()
        lines = []
        for n in range(1, USERS + 1):
            user = ImapUser(self, f"user{n}", secrets.token_urlsafe(12))
            home = self.root / "mail" / user.username
            lines.append(f"{user.username}:{{PLAIN}}{user.password}:{uid}:{gid}::{home}::\n")
            self.users.append(user)
        self.passwd_file.write_text("".join(lines))
        self.passwd_file.chmod(0o644)


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (path for path in ("/usr/sbin/dovecot",) if os.access(path, os.X_OK)), None
    )


def _version(binary: str) -> tuple[int, int]:
    text = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=10
    ).stdout
    found = re.match(r"(\d+)\.(\d+)", text.strip())
    assert found, f"unexpected `dovecot --version`: {text!r}"
    return int(found.group(1)), int(found.group(2))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _mail_ids() -> tuple[int, int]:
    """Who owns the mail: Dovecot refuses root, so root's tests store it as nobody."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_uid, nobody.pw_gid


def _service_users() -> tuple[str, str, str]:
    """Dovecot's internal user and group and its login user: its own when root, else
    whoever runs this."""
    if os.geteuid() != 0:
        me = getpass.getuser()
        return me, _group_of(me), me

    def exists(name: str) -> bool:
        with contextlib.suppress(KeyError):
            return bool(pwd.getpwnam(name))
        return False

    internal = "dovecot" if exists("dovecot") else "nobody"
    login = "dovenull" if exists("dovenull") else "nobody"
    return internal, _group_of(internal), login


def _group_of(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenCX test IMAP")])
    now = datetime.now(UTC)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(identifier, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def _config(server: DovecotServer, key_file: Path) -> str:
    internal, group, login = _service_users()
    # Only root may chroot: without it, the processes that would run there do not.
    chroot = "" if os.geteuid() == 0 else "  chroot =\n"
    common = f"""
protocols = imap
listen = {HOST}
base_dir = {server.root}/run
state_dir = {server.root}/state
log_path = {server.log_file}
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = 1
service imap-login {{
{chroot}  inet_listener imap {{
    port = {server.port}
  }}
  inet_listener imaps {{
    port = {server.tls_port}
    ssl = yes
  }}
}}
service anvil {{
{chroot}  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
    if server.version >= (2, 4):
        return f"""dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
{common}
ssl = yes
ssl_server_cert_file = {server.cert_file}
ssl_server_key_file = {key_file}
auth_allow_cleartext = yes
mail_driver = maildir
mail_path = ~/Maildir
passdb passwd-file {{
  passwd_file_path = {server.passwd_file}
}}
userdb passwd-file {{
  passwd_file_path = {server.passwd_file}
}}
"""
    return f"""{common}
ssl = yes
ssl_cert = <{server.cert_file}
ssl_key = <{key_file}
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {server.passwd_file}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {server.passwd_file}
}}
"""


def _prepare(binary: str) -> tuple[DovecotServer, Path]:
    # Not under pytest's 0700 temporary directories: Dovecot's unprivileged processes
    # read the passwd-file and, as the mail user, write the mail.
    root = Path(tempfile.mkdtemp(prefix="opencx-dovecot-"))
    root.chmod(0o755)
    (root / "mail").mkdir()
    uid, gid = _mail_ids()
    os.chown(root / "mail", uid, gid)
    cert_file, key_file = _certificate(root)
    server = DovecotServer(root, _free_port(), _free_port(), cert_file, _version(binary))
    server._write_users()
    (root / "dovecot.conf").write_text(_config(server, key_file))
    return server, root / "dovecot.conf"


def _wait_until_ready(server: DovecotServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert server.process is not None
        if server.process.poll() is not None:
            pytest.fail(f"Dovecot exited with {server.process.returncode}:\n{server.log()}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection((HOST, server.port), timeout=2) as sock,
        ):
            if sock.recv(100).startswith(b"* OK"):
                return
        if time.monotonic() > deadline:
            pytest.fail(f"Dovecot did not answer within {START_TIMEOUT} s:\n{server.log()}")
        time.sleep(0.05)


def _stop(server: DovecotServer) -> None:
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="module", name="dovecot")
def dovecot_server() -> Iterator[DovecotServer]:
    """A running Dovecot, shared by a module's tests; each test adds its own user."""
    binary = _dovecot_binary()
    if binary is None:
        reason = "Dovecot is not installed (apt install dovecot-imapd): no IMAP server to test"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    server, config = _prepare(binary)
    try:
        with (server.root / "stdout.log").open("wb") as out:
            server.process = subprocess.Popen(
                [binary, "-F", "-c", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        _wait_until_ready(server)
        yield server
    finally:
        _stop(server)
