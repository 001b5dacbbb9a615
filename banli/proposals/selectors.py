"""提案建议: selectors."""
