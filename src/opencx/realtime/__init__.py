"""Live delivery of committed events: the cross-node bus and the WebSocket hub."""
