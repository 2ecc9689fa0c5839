"""The web chat: widgets, visitors and what they see."""
