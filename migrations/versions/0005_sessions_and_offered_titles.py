"""session generations for moderators; the page title each post offered

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch (see 0004: a batch copies and drops the table
    # on SQLite, and with foreign keys on that cascades).
    op.add_column('moderators', sa.Column('session_generation', sa.Integer(), server_default='0', nullable=False))
    op.add_column('comments', sa.Column('page_title', sa.String(length=300), nullable=True))


def downgrade():
    op.drop_column('comments', 'page_title')
    op.drop_column('moderators', 'session_generation')
