"""A claim as one value: the row type the report claims are bound as, one array per batch.

Binding a batch of claims as one array of rows costs asyncpg about half the client CPU of
binding it as one array per column (ADR 14). The attributes are the claim's, in
`reports.domain.Claim`'s order, with the types of the same columns of `intake_report`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ATTRIBUTES = (
    ("report_id", "uuid"),
    ("incident_id", "uuid"),
    ("merged", "boolean"),
    ("integrator_id", "varchar"),
    ("key_id", "varchar"),
    ("channel", "varchar"),
    ("category", "varchar"),
    ("source_system", "varchar"),
    ("external_id", "varchar"),
    ("idempotency_key", "varchar"),
    ("fingerprint", "varchar"),
    ("lat", "double precision"),
    ("lon", "double precision"),
    ("created_at", "timestamptz"),
    ("lease_until", "timestamptz"),
)


def upgrade() -> None:
    attributes = ", ".join(f"{name} {type_}" for name, type_ in ATTRIBUTES)
    op.execute(f"create type intake_claim as ({attributes})")


def downgrade() -> None:
    op.execute("drop type intake_claim")
