"""The movies importer's job code (``importer.py``), built into the job's image by the ``Dockerfile`` here."""
