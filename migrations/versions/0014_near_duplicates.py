"""near-duplicate band keys and signatures; sites may share spam signals

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN / CREATE TABLE, not a batch (see 0004).
    op.add_column(
        "sites",
        sa.Column(
            "share_spam_signals",
            sa.Boolean(),
            server_default=sa.false(),
            nullable=False,
        ),
    )
    op.create_table(
        "comment_bands",
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("band", sa.SmallInteger(), nullable=False),
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("comment_id", "band"),
    )
    op.create_index("ix_comment_bands_band_key", "comment_bands", ["band_key"])


def downgrade():
    op.drop_index("ix_comment_bands_band_key", table_name="comment_bands")
    op.drop_table("comment_bands")
    op.drop_column("sites", "share_spam_signals")
