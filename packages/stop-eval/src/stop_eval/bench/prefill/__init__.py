"""``stop-bench prefill``: the timed stages, and one session module per backbone it covers."""
