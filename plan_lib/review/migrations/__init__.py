"""Alembic environment and revisions of the review store (run by ``open_store``)."""
