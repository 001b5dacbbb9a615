"""督办催办: choices."""
