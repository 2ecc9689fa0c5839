"""Sending to customers: the durable outbox (the message row), one sender per channel
(``email``, ``messaging``), and providers' delivery statuses applied (``statuses``)."""
