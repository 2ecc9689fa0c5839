"""django-helpdesk's side of ``ingest.py --corpus``: run by the interpreter of a venv
holding django-helpdesk (never ours: it imports nothing of OpenCX).

Sets up a minimal Django project on a fresh SQLite file in ``--work-dir`` (Django's
settings for it, or OpenCX's with ``--wal``; the apps django-helpdesk needs, teams mode
off so that pinax-teams is not needed, outgoing mail kept in memory), migrates it,
creates one queue reading the directory ``--mail-dir`` (``email_box_type='local'``:
django-helpdesk reads every file of a plain directory, not a maildir, and deletes each
one it turned into a ticket or follow-up), then times its ``get_email`` management
command over the files. It lists the directory with ``os.listdir``, whose order is the
file system's; the bench names the files in arrival order and has that one listing
sorted, so that an original is read before its replies, as mail arrives. Prints one
JSON line: seconds (and CPU seconds), files left unread, tickets, follow-ups, and how
many replies of ``--replies`` (a JSON object: reply Message-ID to the id it answers,
without brackets) are in their original's ticket.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

SETTINGS = """
SECRET_KEY = "bench-only-not-secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.sites",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = []
ROOT_URLCONF = "bench_urls"
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {db!r},
               "OPTIONS": {options!r}}}}}
MEDIA_ROOT = {media!r}
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "support@example.com"
HELPDESK_TEAMS_MODE_ENABLED = False
TEMPLATES = [{{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {{"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]}},
}}]
LOGGING = {{"version": 1, "disable_existing_loggers": False, "root": {{"level": "ERROR"}}}}
"""

URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""


class _SortedListing(ModuleType):
    """``os`` as helpdesk.email sees it, with its directory listing sorted."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def listdir(path: str) -> list[str]:
        return sorted(os.listdir(path))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--replies", required=True)
    parser.add_argument(
        "--wal",
        action="store_true",
        help="journal_mode=WAL and synchronous=NORMAL, as OpenCX sets them, instead of "
        "Django's defaults (a rollback journal, synchronous=FULL: a sync per commit)",
    )
    args = parser.parse_args()
    options = (
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"} if args.wal else {}
    )
    work = Path(args.work_dir)
    (work / "media").mkdir(parents=True, exist_ok=True)
    (work / "bench_settings.py").write_text(
        SETTINGS.format(db=str(work / "helpdesk.db"), media=str(work / "media"), options=options)
    )
    (work / "bench_urls.py").write_text(URLS)
    sys.path.insert(0, str(work))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)

    import helpdesk.email
    from helpdesk.models import FollowUp, Queue, Ticket

    helpdesk.email.os = _SortedListing("os")
    Queue.objects.create(
        title="Support",
        slug="support",
        email_address="support@example.com",
        allow_email_submission=True,
        email_box_type="local",
        email_box_local_dir=args.mail_dir,
        email_box_interval=0,
        logging_type="none",
    )
    files = len(os.listdir(args.mail_dir))
    cpu = time.process_time()
    started = time.perf_counter()
    call_command("get_email", quiet=True)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu

    replies: dict[str, str] = json.loads(Path(args.replies).read_text())
    ticket_of = dict(FollowUp.objects.values_list("message_id", "ticket_id"))
    threaded = sum(
        1
        for reply, answered in replies.items()
        if ticket_of.get(f"<{reply}>") is not None
        and ticket_of.get(f"<{reply}>") == ticket_of.get(f"<{answered}>")
    )
    print(
        json.dumps(
            {
                "version": django_helpdesk_version(),
                "files": files,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "left_unread": len(os.listdir(args.mail_dir)),
                "tickets": Ticket.objects.count(),
                "followups": FollowUp.objects.count(),
                "replies": len(replies),
                "threaded": threaded,
            }
        )
    )


def django_helpdesk_version() -> str:
    from importlib.metadata import version

    return version("django-helpdesk")


if __name__ == "__main__":
    main()
