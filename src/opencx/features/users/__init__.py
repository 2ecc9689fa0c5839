"""Users (admins, supervisors, agents), their agent profile and presence."""
