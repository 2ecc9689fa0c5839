"""Where contacts come in: the SMTP listener, IMAP mailboxes, providers' webhooks and
polled accounts, and the pool that parses received mail. Each hands what it read to
``opencx.features.contacts.intake``."""
