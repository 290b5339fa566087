"""Initial review store: users, plan versions, pilot members, overrides, comments, audit log.

The audit log is made append-only in the database too (not only in code):
triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL), so even a raw
SQL statement cannot rewrite history.

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END",
)
POSTGRES_TRIGGERS = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(200)),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("token_generation", sa.Integer, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_users"),
        sa.CheckConstraint("role IN ('rep', 'manager', 'director', 'vp', 'revops', 'admin')", name="ck_users_role"),
    )
    op.create_table(
        "plan_versions",
        sa.Column("version_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("period", sa.String(16)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("base_run_dir", sa.Text, nullable=False),
        sa.Column("parent_version_id", sa.Integer),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("version_id", name="pk_plan_versions"),
        sa.ForeignKeyConstraint(
            ["parent_version_id"], ["plan_versions.version_id"], name="fk_plan_versions_parent_version_id_plan_versions"
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'pilot', 'review', 'locked', 'published')", name="ck_plan_versions_state"
        ),
    )
    op.create_table(
        "pilot_members",
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("version_id", "user_id", name="pk_pilot_members"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_pilot_members_version_id_plan_versions"),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name="fk_pilot_members_user_id_users"),
    )
    op.create_table(
        "overrides",
        sa.Column("override_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.String(64)),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("from_rep_id", sa.String(64)),
        sa.Column("quota", sa.Float),
        sa.Column("previous_quota", sa.Float),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("override_id", name="pk_overrides"),
        sa.UniqueConstraint("version_id", "kind", "subject_id", name="uq_overrides_subject"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_overrides_version_id_plan_versions"),
        sa.ForeignKeyConstraint(["created_by"], ["users.user_id"], name="fk_overrides_created_by_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.user_id"], name="fk_overrides_updated_by_users"),
        sa.CheckConstraint("kind IN ('reassign', 'lock', 'quota')", name="ck_overrides_kind"),
        sa.CheckConstraint("length(reason) > 0", name="ck_overrides_reason"),
        sa.CheckConstraint("quota IS NULL OR quota >= 0", name="ck_overrides_quota"),
    )
    op.create_table(
        "comments",
        sa.Column("comment_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("subject_type", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("comment_id", name="pk_comments"),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.version_id"], name="fk_comments_version_id_plan_versions"),
        sa.ForeignKeyConstraint(["author_id"], ["users.user_id"], name="fk_comments_author_id_users"),
        sa.CheckConstraint("subject_type IN ('rep', 'account')", name="ck_comments_subject_type"),
        sa.CheckConstraint("length(text) > 0", name="ck_comments_text"),
    )
    op.create_index("ix_comments_version_id", "comments", ["version_id"])
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.Integer, autoincrement=True, nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(80)),
        sa.Column("etag", sa.Integer),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.JSON),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_version_subject", "audit_log", ["version_id", "subject"])

    dialect = op.get_bind().dialect.name
    triggers = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRES_TRIGGERS}.get(dialect, ())
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    for table in ("audit_log", "comments", "overrides", "pilot_members", "plan_versions", "users"):
        op.drop_table(table)
