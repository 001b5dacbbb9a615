"""督办催办: services."""
