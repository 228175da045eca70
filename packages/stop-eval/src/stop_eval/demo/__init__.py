"""The offline demo of ``stop-eval``: bundled clips and questions, every method SToP off/on."""
