"""Channel adapters: one package per provider, pure translators between provider
payloads and our commands."""
