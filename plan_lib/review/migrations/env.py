"""Alembic environment for the review store.

Migrations run programmatically: ``plan_lib.review.store.open_store(url)``
opens a connection, starts a transaction (serialised between processes) and
hands it over through ``config.attributes["connection"]``. No alembic.ini is
needed; to write a new revision, use ``plan_lib.review.store.alembic_config(url)``
with ``alembic.command.revision(config, autogenerate=True, message=...)``.
"""

from __future__ import annotations

from alembic import context

from plan_lib.review.errors import StoreError
from plan_lib.review.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise StoreError(
        "the review store migrations run through plan_lib.review.store.open_store(url) "
        "(or alembic_config(url)), not through a bare `alembic` command"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
