"""flashvid (being implemented)."""
