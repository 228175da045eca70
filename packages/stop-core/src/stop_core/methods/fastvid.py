"""fastvid (being implemented)."""
