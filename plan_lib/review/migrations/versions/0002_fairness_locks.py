"""Fairness locks, waivers and publications; locked versions made immutable in the database.

Triggers (SQLite and PostgreSQL) refuse:
- UPDATE and DELETE of plan_locks, fairness_waivers and publications (permanent records);
- any INSERT, UPDATE or DELETE of the overrides of a locked version;
- a change of a locked version's state other than locked -> published, a change
  of the run it is based on, or its deletion.

Messages start with a marker that ``plan_lib.review.lock_models`` turns into a
clear tqp error.

Revision ID: 0002_fairness_locks
Revises: 0001_initial
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Registers the ORM classes of these tables on the shared declarative Base whenever Alembic
# loads the revisions (every open_store does), so Base.metadata describes the whole schema.
import plan_lib.review.lock_models  # noqa: F401

revision = "0002_fairness_locks"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
PERMANENT = ("plan_locks", "fairness_waivers", "publications")
LOCKED = (
    "tqp-locked: this plan version was locked after its fairness check and cannot change; "
    "a change after lock is a new version (plan_lib.fairness.lock.new_version_after_lock)"
)

SQLITE_TRIGGERS = [
    *(
        f"CREATE TRIGGER {table}_no_{op_} BEFORE {op_.upper()} ON {table} BEGIN SELECT RAISE(ABORT, "
        f"'tqp-permanent: {table} rows are permanent records: {op_.upper()} refused'); END"
        for table in PERMANENT
        for op_ in ("update", "delete")
    ),
    *(
        f"CREATE TRIGGER overrides_locked_{op_} BEFORE {op_.upper()} ON overrides "
        f"WHEN EXISTS (SELECT 1 FROM plan_locks WHERE version_id = {row}.version_id) "
        f"BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END"
        for op_, row in (("insert", "NEW"), ("update", "OLD"), ("delete", "OLD"))
    ),
    "CREATE TRIGGER overrides_locked_move BEFORE UPDATE ON overrides "
    "WHEN EXISTS (SELECT 1 FROM plan_locks WHERE version_id = NEW.version_id) "
    f"BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END",
    "CREATE TRIGGER plan_versions_locked_update BEFORE UPDATE ON plan_versions "
    "WHEN EXISTS (SELECT 1 FROM plan_locks WHERE version_id = OLD.version_id) "
    "AND ((NEW.state <> OLD.state AND NOT (OLD.state = 'locked' AND NEW.state = 'published')) "
    "OR NEW.base_run_dir IS NOT OLD.base_run_dir OR NEW.version_id IS NOT OLD.version_id) "
    f"BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END",
    "CREATE TRIGGER plan_versions_locked_delete BEFORE DELETE ON plan_versions "
    "WHEN EXISTS (SELECT 1 FROM plan_locks WHERE version_id = OLD.version_id) "
    f"BEGIN SELECT RAISE(ABORT, '{LOCKED}'); END",
]

POSTGRES_TRIGGERS = [
    "CREATE FUNCTION tqp_permanent_records() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'tqp-permanent: % rows are permanent records: % refused', TG_TABLE_NAME, TG_OP; END $$",
    *(
        f"CREATE TRIGGER {table}_permanent BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION tqp_permanent_records()"
        for table in PERMANENT
    ),
    *(
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION tqp_permanent_records()"
        for table in PERMANENT
    ),
    # FOR SHARE on the version row: an override write waits for a lock being taken on its version (which
    # holds the row FOR UPDATE) and then sees it; a lock waits for override writes in flight and sees them.
    "CREATE FUNCTION tqp_locked_overrides() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN PERFORM 1 FROM plan_versions WHERE version_id = OLD.version_id FOR SHARE; END IF; "
    "IF TG_OP <> 'DELETE' THEN PERFORM 1 FROM plan_versions WHERE version_id = NEW.version_id FOR SHARE; END IF; "
    "IF (TG_OP <> 'INSERT' AND EXISTS (SELECT 1 FROM plan_locks WHERE version_id = OLD.version_id)) "
    "OR (TG_OP <> 'DELETE' AND EXISTS (SELECT 1 FROM plan_locks WHERE version_id = NEW.version_id)) THEN "
    f"RAISE EXCEPTION '{LOCKED}'; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER overrides_locked BEFORE INSERT OR UPDATE OR DELETE ON overrides "
    "FOR EACH ROW EXECUTE FUNCTION tqp_locked_overrides()",
    "CREATE FUNCTION tqp_locked_versions() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF EXISTS (SELECT 1 FROM plan_locks WHERE version_id = OLD.version_id) AND (TG_OP = 'DELETE' "
    "OR (NEW.state <> OLD.state AND NOT (OLD.state = 'locked' AND NEW.state = 'published')) "
    "OR NEW.base_run_dir IS DISTINCT FROM OLD.base_run_dir OR NEW.version_id <> OLD.version_id) THEN "
    f"RAISE EXCEPTION '{LOCKED}'; END IF; "
    "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER plan_versions_locked BEFORE UPDATE OR DELETE ON plan_versions "
    "FOR EACH ROW EXECUTE FUNCTION tqp_locked_versions()",
]


def upgrade() -> None:
    op.create_table(
        "plan_locks",
        sa.Column("lock_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("period", sa.String(16)),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("report_path", sa.Text),
        sa.Column("overrides_fingerprint", sa.String(64), nullable=False),
        sa.Column("locked_by", sa.String(64), nullable=False),
        sa.Column("locked_at", STAMP, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("warned", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("waived", sa.Integer, nullable=False),
        sa.Column("criteria", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("lock_id", name="pk_plan_locks"),
        sa.UniqueConstraint("version_id", name="uq_plan_locks_version_id"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_plan_locks_version_id_plan_versions"),
    )
    op.create_table(
        "fairness_waivers",
        sa.Column("waiver_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("lock_id", sa.Integer, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("criterion", sa.String(64), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("threshold", sa.Float),
        sa.Column("waived_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("waiver_id", name="pk_fairness_waivers"),
        sa.UniqueConstraint("lock_id", "criterion", name="uq_fairness_waivers_lock_id"),
        sa.ForeignKeyConstraint(["lock_id"], ["plan_locks.lock_id"], name="fk_fairness_waivers_lock_id_plan_locks"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_fairness_waivers_version_id_plan_versions"),
        sa.CheckConstraint("length(reason) > 0", name="ck_fairness_waivers_reason"),
        sa.CheckConstraint("length(waived_by) > 0", name="ck_fairness_waivers_waived_by"),
    )
    op.create_index("ix_fairness_waivers_version_id", "fairness_waivers", ["version_id"])
    op.create_table(
        "publications",
        sa.Column("publication_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("lock_id", sa.Integer, nullable=False),
        sa.Column("period", sa.String(16)),
        sa.Column("run_dir", sa.Text, nullable=False),
        sa.Column("previous_publication_id", sa.Integer),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", STAMP, nullable=False),
        sa.Column("accounts", sa.Integer, nullable=False),
        sa.Column("accounts_changed", sa.Integer, nullable=False),
        sa.Column("quota_total", sa.Float, nullable=False),
        sa.Column("quota_changes", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("publication_id", name="pk_publications"),
        sa.UniqueConstraint("version_id", name="uq_publications_version_id"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_publications_version_id_plan_versions"),
        sa.ForeignKeyConstraint(["lock_id"], ["plan_locks.lock_id"], name="fk_publications_lock_id_plan_locks"),
        sa.ForeignKeyConstraint(
            ["previous_publication_id"], ["publications.publication_id"],
            name="fk_publications_previous_publication_id_publications",
        ),
    )
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS plan_versions_locked ON plan_versions")
        op.execute("DROP TRIGGER IF EXISTS overrides_locked ON overrides")
        op.execute("DROP FUNCTION IF EXISTS tqp_locked_versions()")
        op.execute("DROP FUNCTION IF EXISTS tqp_locked_overrides()")
    else:
        for name in ("plan_versions_locked_update", "plan_versions_locked_delete", "overrides_locked_move",
                     *(f"overrides_locked_{o}" for o in ("insert", "update", "delete"))):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("publications", "fairness_waivers", "plan_locks"):
        op.drop_table(table)  # drops the tables' own triggers with them
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tqp_permanent_records()")
