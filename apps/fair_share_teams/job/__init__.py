"""The fair-share teams' job code (``jobs.py``), built into one image for all four job definitions."""
