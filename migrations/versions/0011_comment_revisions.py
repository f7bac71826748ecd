"""authors' edits of published comments wait as revisions; what a moderator decided

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

STATUSES = ('pending', 'approved', 'rejected', 'spam', 'deleted')


def upgrade():
    op.create_table('comment_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('signals', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='revision_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_revisions_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['moderators.id'], name=op.f('fk_comment_revisions_decided_by_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_comment_revisions_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_revisions'))
    )
    op.create_index('ix_comment_revisions_comment_status', 'comment_revisions', ['comment_id', 'status'], unique=False)
    op.create_index('ix_comment_revisions_status_site', 'comment_revisions', ['status', 'site_id'], unique=False)
    # Plain ADD COLUMN, not a batch (see 0004).
    # SQLite cannot add a CHECK to an existing table in place: PostgreSQL gets it.
    op.add_column('comments', sa.Column('decided_status', sa.Enum(*STATUSES, name='decided_status', native_enum=False, create_constraint=False, length=32), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        op.create_check_constraint(
            'decided_status', 'comments',
            sa.column('decided_status').in_(STATUSES),
        )
    op.add_column('comments', sa.Column('decided_body', sa.Text(), nullable=True))
    # Comments decided before: the text they hold now is the best record of
    # what was decided (edits before this migration cannot be told apart).
    op.execute(
        "UPDATE comments SET decided_status = status, decided_body = body "
        "WHERE moderated_at IS NOT NULL "
        "AND status IN ('approved', 'rejected', 'spam')"
    )


def downgrade():
    op.drop_column('comments', 'decided_body')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('decided_status', 'comments', type_='check')
    op.drop_column('comments', 'decided_status')
    op.drop_index('ix_comment_revisions_status_site', table_name='comment_revisions')
    op.drop_index('ix_comment_revisions_comment_status', table_name='comment_revisions')
    op.drop_table('comment_revisions')
