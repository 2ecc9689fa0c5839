"""Channels as the service sees them: what adapters read is stored, threaded and routed
here (``inbound``)."""
