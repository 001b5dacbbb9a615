"""统计与考核: choices."""
