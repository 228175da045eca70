"""lmms-eval: ``--model stop`` (entry point ``plugin.manifests``, model class ``model``)."""
