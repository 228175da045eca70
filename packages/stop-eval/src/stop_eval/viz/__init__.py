"""``stop-eval visualize``: sink-score heat maps and kept tokens, SToP off vs on."""
