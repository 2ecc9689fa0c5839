"""Routing as a service: the one active router (``engine``, elected by ``leadership``),
its command inbox (``commands``) and the outcomes it hands back (``outcomes``), the
batches it writes (``persist``) through the actions that are the only writers of a
contact's state (``actions``), and the tasks and reservations API (``tasks``)."""
