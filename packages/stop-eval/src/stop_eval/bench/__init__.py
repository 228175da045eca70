"""``stop-bench``'s benchmarks: pruning latency, capture overhead, prefill, scaling, gpu-check."""
