"""Media: video decoding, prepared videos, benchmark downloads and the model-hub check."""
