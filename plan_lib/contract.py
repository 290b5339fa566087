"""The data contract: which input tables exist, their columns, types and rules.

One declarative description serves the validator (``plan_lib.ingest``), the demo
generator (column order), the SQL reader and the documentation, so they cannot
drift apart. Kinds of column:

- ``str``: text, kept exactly as written (postal codes keep leading zeros).
- ``int`` / ``float``: numbers; text that is not a number is a row error.
- ``bool``: true/false, 1/0, yes/no (any case).
- ``date``: ISO ``YYYY-MM-DD``; anything else is a row error, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["str", "int", "float", "bool", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False  # the column must be present in the file
    nullable: bool = True  # a present column may have empty cells
    unique: bool = False
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    doc: str = ""
    example: str = ""


@dataclass(frozen=True)
class Reference:
    """``column`` must name an existing ``table.key`` (after that table's own checks).

    ``strict`` references quarantine the row; soft ones keep it and warn (used where
    history legitimately names people no longer on the roster).
    """

    column: str
    table: str
    key: str
    strict: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    required: bool = True
    unique_together: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    doc: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        if self.unique_together:
            return self.unique_together
        return tuple(c.name for c in self.columns if c.unique)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


REP_ROLES = ("rep", "manager", "director", "vp")
REP_STATUSES = ("active", "leaving", "open")
OPPORTUNITY_STAGES = ("open", "won", "lost")

ACCOUNTS = Table(
    "accounts",
    doc="Companies that may buy: firmographics, location, customer status and last period's owner.",
    columns=(
        Column("account_id", "str", required=True, nullable=False, unique=True, example="A000001"),
        Column("name", "str", example="Harbor Analytics Inc"),
        Column("parent_account_id", "str", doc="account family: the family moves as one unit", example=""),
        Column("country", "str", example="US"),
        Column("state", "str", doc="two-letter state code", example="CA"),
        Column("county_fips", "str", doc="5-digit county FIPS code", example="06075"),
        Column("postal_code", "str", doc="5-digit ZIP, kept as text", example="94105"),
        Column("lat", "float", min=-90, max=90, example="37.7898"),
        Column("lon", "float", min=-180, max=180, example="-122.3942"),
        Column("industry", "str", example="Software"),
        Column("employees", "int", min=0, example="420"),
        Column("annual_revenue", "float", min=0, doc="currency per year", example="61000000"),
        Column("is_customer", "bool", example="true"),
        Column("current_arr", "float", min=0, doc="annual recurring revenue if a customer", example="48000"),
        Column("current_owner", "str", doc="rep_id owning the account last period", example="R0012"),
        Column("segment", "str", doc="if empty, derived by the segment rules of the parameters", example="Mid-Market"),
    ),
    references=(
        Reference("current_owner", "reps", "rep_id"),
        Reference("parent_account_id", "accounts", "account_id"),
    ),
)

REPS = Table(
    "reps",
    doc="The roster and its hierarchy (rep -> manager -> director -> vp); open headcount is a row with status 'open'.",
    columns=(
        Column("rep_id", "str", required=True, nullable=False, unique=True, example="R0012"),
        Column("name", "str", example="Dana Whitfield"),
        Column("email", "str", example="dana.whitfield@example.com"),
        Column("role", "str", allowed=REP_ROLES, example="rep"),
        Column("manager_id", "str", doc="rep_id of the manager; empty only at the top", example="M003"),
        Column("segment", "str", example="Mid-Market"),
        Column("region", "str", example="West"),
        Column("home_lat", "float", min=-90, max=90, example="37.77"),
        Column("home_lon", "float", min=-180, max=180, example="-122.42"),
        Column("start_date", "date", example="2024-03-18"),
        Column("capacity_fte", "float", min=0, max=1, doc="1.0 full time; less when ramping or part-time", example="1.0"),
        Column("status", "str", allowed=REP_STATUSES, example="active"),
    ),
    references=(Reference("manager_id", "reps", "rep_id"),),
)

OPPORTUNITIES = Table(
    "opportunities",
    doc="CRM history: won/lost opportunities train the propensity model; won ones in the period are bookings.",
    columns=(
        Column("opportunity_id", "str", required=True, nullable=False, unique=True, example="O0000001"),
        Column("account_id", "str", required=True, nullable=False, example="A000001"),
        Column("owner_rep_id", "str", doc="may name a former rep (kept, with a warning)", example="R0012"),
        Column("created_date", "date", required=True, nullable=False, example="2025-04-02"),
        Column("close_date", "date", doc="required once won or lost", example="2025-06-20"),
        Column("stage", "str", required=True, nullable=False, allowed=OPPORTUNITY_STAGES, example="won"),
        Column("amount", "float", min=0, example="36000"),
    ),
    references=(
        Reference("account_id", "accounts", "account_id"),
        Reference("owner_rep_id", "reps", "rep_id", strict=False),
    ),
)

INTENT_SIGNALS = Table(
    "intent_signals",
    doc="Third-party buying intent: dated events with a topic and a strength.",
    columns=(
        Column("account_id", "str", required=True, nullable=False, example="A000001"),
        Column("date", "date", required=True, nullable=False, example="2026-11-14"),
        Column("topic", "str", example="data integration"),
        Column("strength", "float", min=0, max=100, example="72"),
    ),
    references=(Reference("account_id", "accounts", "account_id"),),
)

TARGETS = Table(
    "targets",
    doc="The company's bookings target per period, segment and region.",
    columns=(
        Column("period", "str", required=True, nullable=False, example="2027Q1"),
        Column("segment", "str", example="Mid-Market"),
        Column("region", "str", example="West"),
        Column("bookings_target", "float", required=True, nullable=False, min=0, example="4200000"),
    ),
    unique_together=("period", "segment", "region"),
)

ACTIVITIES = Table(
    "activities",
    required=False,
    doc="Optional engagement log: a propensity feature and a workload driver.",
    columns=(
        Column("account_id", "str", required=True, nullable=False, example="A000001"),
        Column("date", "date", required=True, nullable=False, example="2026-10-03"),
        Column("type", "str", example="meeting"),
    ),
    references=(Reference("account_id", "accounts", "account_id"),),
)

QUOTA_HISTORY = Table(
    "quota_history",
    required=False,
    doc="Optional past quotas and bookings per rep: caps on change, productivity, attainment history.",
    columns=(
        Column("period", "str", required=True, nullable=False, example="2026Q4"),
        Column("rep_id", "str", required=True, nullable=False, example="R0012"),
        Column("quota", "float", required=True, nullable=False, min=0, example="310000"),
        Column("bookings", "float", min=0, example="287500"),
    ),
    unique_together=("period", "rep_id"),
    references=(Reference("rep_id", "reps", "rep_id", strict=False),),
)

#: Tables in validation order: a table is checked after the tables it references.
TABLES: tuple[Table, ...] = (REPS, ACCOUNTS, OPPORTUNITIES, INTENT_SIGNALS, TARGETS, ACTIVITIES, QUOTA_HISTORY)
TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

#: Files or folders a data folder may hold besides the tables, without a warning.
KNOWN_EXTRAS = ("ground_truth", "README.md", "README.txt")


def _rules(column: Column) -> str:
    rules = []
    if column.required:
        rules.append("required column")
    if not column.nullable:
        rules.append("no empty cells")
    if column.unique:
        rules.append("unique")
    if column.min is not None:
        rules.append(f">= {column.min:g}")
    if column.max is not None:
        rules.append(f"<= {column.max:g}")
    if column.allowed:
        rules.append("one of " + "/".join(column.allowed))
    return ", ".join(rules)


def contract_markdown() -> str:
    """The data contract as Markdown (the README embeds this text; a test keeps them equal)."""
    parts = []
    for table in TABLES:
        status = "required" if table.required else "optional"
        parts.append(f"#### `{table.name}` ({status})\n\n{table.doc}\n")
        parts.append("| column | kind | rules | meaning |\n|---|---|---|---|")
        for column in table.columns:
            parts.append(f"| `{column.name}` | {column.kind} | {_rules(column)} | {column.doc} |")
        references = [f"`{r.column}` -> `{r.table}.{r.key}`" + ("" if r.strict else " (soft: kept with a warning)") for r in table.references]
        extras = []
        if table.unique_together:
            extras.append(f"Key: ({', '.join(table.unique_together)}) unique.")
        if references:
            extras.append("References: " + "; ".join(references) + ".")
        if extras:
            parts.append("\n" + " ".join(extras))
        header = ",".join(table.column_names)
        example = ",".join(column.example for column in table.columns)
        parts.append(f"\nExample row:\n```csv\n{header}\n{example}\n```\n")
    return "\n".join(parts)
