"""督办催办: selectors."""
