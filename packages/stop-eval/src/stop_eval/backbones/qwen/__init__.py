"""The Qwen-VL family: the entry class, the official input rules and the Qwen entries."""
