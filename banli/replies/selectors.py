"""答复与测评: selectors."""
