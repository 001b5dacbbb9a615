"""统计与考核: selectors."""
