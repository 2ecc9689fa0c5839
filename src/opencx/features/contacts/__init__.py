"""A contact coming in: received messages stored, threaded and handed to routing
(``intake``, set-wise by ``store``), their files fetched (``media``), and the sender's
mail checked (``mail_trust``). The actions that write a contact's state afterwards are
the router's (``opencx.features.routing.actions``)."""
