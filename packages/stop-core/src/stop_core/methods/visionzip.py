"""visionzip (being implemented)."""
