"""The service layer: one package per area. Services own transactions, call the core,
and publish their events after commit."""
