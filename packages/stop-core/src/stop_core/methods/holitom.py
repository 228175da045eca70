"""holitom (being implemented)."""
