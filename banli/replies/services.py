"""答复与测评: services."""
