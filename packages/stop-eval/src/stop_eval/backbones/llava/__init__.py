"""The LLaVA family: the entry class, the official input rule and the two LLaVA entries."""
