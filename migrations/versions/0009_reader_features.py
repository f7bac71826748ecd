"""reader features: reports, edits by the author, sort order and reply depth

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0009'
# 0008 (e-mail) is written on another branch: re-chain to it at the merge.
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch (see 0004).
    op.add_column('sites', sa.Column('report_threshold', sa.Integer(), server_default='3', nullable=False))
    op.add_column('sites', sa.Column('edit_window_seconds', sa.Integer(), server_default='300', nullable=False))
    op.add_column('sites', sa.Column('default_sort', sa.String(length=8), server_default='oldest', nullable=False))
    op.add_column('sites', sa.Column('max_reply_depth', sa.Integer(), server_default='4', nullable=False))
    op.add_column('comments', sa.Column('edit_token_hash', sa.String(length=64), nullable=True))
    op.add_column('comments', sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table('comment_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('ip_hash', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_reports_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['moderators.id'], name=op.f('fk_comment_reports_resolved_by_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_comment_reports_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comment_reports'))
    )
    # One report per reader and comment, by network and by browser token.
    op.create_index('ix_comment_reports_comment_ip', 'comment_reports', ['comment_id', 'ip_hash'], unique=True)
    op.create_index('ix_comment_reports_comment_token', 'comment_reports', ['comment_id', 'token_hash'], unique=True)
    op.create_index('ix_comment_reports_site_open', 'comment_reports', ['site_id', 'resolved_at'], unique=False)


def downgrade():
    op.drop_index('ix_comment_reports_site_open', table_name='comment_reports')
    op.drop_index('ix_comment_reports_comment_token', table_name='comment_reports')
    op.drop_index('ix_comment_reports_comment_ip', table_name='comment_reports')
    op.drop_table('comment_reports')
    op.drop_column('comments', 'edited_at')
    op.drop_column('comments', 'edit_token_hash')
    op.drop_column('sites', 'max_reply_depth')
    op.drop_column('sites', 'default_sort')
    op.drop_column('sites', 'edit_window_seconds')
    op.drop_column('sites', 'report_threshold')
