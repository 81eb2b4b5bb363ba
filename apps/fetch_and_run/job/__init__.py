"""The fetch-and-run job's code (``runner``), importable for tests; the Dockerfile packages it."""
