"""the audit trail of bans, settings, accounts, webhook endpoints and mail

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=24), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('target_label', sa.String(length=300), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_audit_entries_comment_id_comments'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_audit_entries_moderator_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_audit_entries_site_id_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    op.create_index('ix_audit_entries_created', 'audit_entries', ['created_at', 'id'], unique=False)
    op.create_index('ix_audit_entries_site_created', 'audit_entries', ['site_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_audit_entries_comment_id'), 'audit_entries', ['comment_id'], unique=False)
    # The trail of all sites (an admin's) pages decisions by time.
    op.create_index('ix_moderation_events_created', 'moderation_events', ['created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_moderation_events_created', table_name='moderation_events')
    op.drop_index(op.f('ix_audit_entries_comment_id'), table_name='audit_entries')
    op.drop_index('ix_audit_entries_site_created', table_name='audit_entries')
    op.drop_index('ix_audit_entries_created', table_name='audit_entries')
    op.drop_table('audit_entries')
