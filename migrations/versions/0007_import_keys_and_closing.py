"""imported comments remember their source's id; threads open and close

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch (see 0004).
    # "wordpress:123", "disqus:456", "commentsvc:789": importing a file again
    # finds what it already brought (unique per site).
    op.add_column('comments', sa.Column('import_key', sa.String(length=200), nullable=True))
    op.create_index('ix_comments_site_import_key', 'comments', ['site_id', 'import_key'], unique=True)
    # None follows the site's rule (close_after_days), True/False is a
    # moderator's choice for this thread.
    op.add_column('threads', sa.Column('comments_open', sa.Boolean(), nullable=True))
    # None: threads never close by age.
    op.add_column('sites', sa.Column('close_after_days', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('sites', 'close_after_days')
    op.drop_column('threads', 'comments_open')
    op.drop_index('ix_comments_site_import_key', table_name='comments')
    op.drop_column('comments', 'import_key')
