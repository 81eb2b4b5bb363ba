"""The file scanner's job code (``scanner``), importable for tests; the Dockerfile packages it."""
