"""统计与考核: services."""
