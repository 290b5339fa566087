"""Versioned schema revisions, oldest first (``0001_initial``...)."""
