"""readers who sign in: accounts, sessions, e-mail links, sites' sign-in settings

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('avatar_url', sa.String(length=2048), nullable=True),
    sa.Column('staff', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('suspended_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('suspension_reason', sa.String(length=500), nullable=True),
    sa.Column('banned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('ban_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['moderator_id'], ['moderators.id'], name=op.f('fk_accounts_moderator_id_moderators'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_accounts_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('site_id', 'provider', 'subject', name=op.f('uq_accounts_site_id_provider_subject'))
    )
    op.create_index('ix_accounts_site_email', 'accounts', ['site_id', 'email'], unique=False)
    op.create_table('reader_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_reader_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_reader_sessions_token_hash'))
    )
    op.create_index(op.f('ix_reader_sessions_account_id'), 'reader_sessions', ['account_id'], unique=False)
    op.create_index(op.f('ix_reader_sessions_expires_at'), 'reader_sessions', ['expires_at'], unique=False)
    op.create_table('sign_in_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('return_url', sa.String(length=2048), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_sign_in_links_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_links_token_hash'))
    )
    op.create_index(op.f('ix_sign_in_links_expires_at'), 'sign_in_links', ['expires_at'], unique=False)
    op.create_table('site_sign_in',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('guests_allowed', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('sso_secret', sa.String(length=200), nullable=True),
    sa.Column('sso_algorithm', sa.String(length=8), server_default='HS256', nullable=False),
    sa.Column('sso_public_key', sa.Text(), nullable=True),
    sa.Column('sso_skip_captcha', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('email_sign_in', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('oidc_issuer', sa.String(length=500), nullable=True),
    sa.Column('oidc_client_id', sa.String(length=200), nullable=True),
    sa.Column('oidc_client_secret', sa.String(length=500), nullable=True),
    sa.Column('oidc_label', sa.String(length=60), nullable=True),
    sa.Column('new_account_min_approved', sa.Integer(), server_default='2', nullable=False),
    sa.Column('rejected_hold_ratio', sa.Double(), server_default='0.3', nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_sign_in_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_site_sign_in'))
    )
    # Plain ADD COLUMN (see 0004: a batch would copy and drop the table), and
    # no foreign key: SQLite cannot add one in place (as root_id, see 0006).
    op.add_column('comments', sa.Column('account_id', sa.Integer(), nullable=True))
    op.add_column('comments', sa.Column('badge', sa.String(length=16), nullable=True))
    op.create_index(op.f('ix_comments_account_id'), 'comments', ['account_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_comments_account_id'), table_name='comments')
    op.drop_column('comments', 'badge')
    op.drop_column('comments', 'account_id')
    op.drop_table('site_sign_in')
    op.drop_index(op.f('ix_sign_in_links_expires_at'), table_name='sign_in_links')
    op.drop_table('sign_in_links')
    op.drop_index(op.f('ix_reader_sessions_expires_at'), table_name='reader_sessions')
    op.drop_index(op.f('ix_reader_sessions_account_id'), table_name='reader_sessions')
    op.drop_table('reader_sessions')
    op.drop_index('ix_accounts_site_email', table_name='accounts')
    op.drop_table('accounts')
