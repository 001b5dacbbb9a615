"""提案建议: services."""
