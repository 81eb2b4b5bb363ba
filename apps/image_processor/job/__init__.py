"""The image processor's job code (``detect_labels``), importable for tests; the Dockerfile packages it."""
