"""what a site rejects: per-site reject models and their settings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0015'
# Rechained after 0014 (near-duplicates) at merge.
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reject_models',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('state', sa.LargeBinary(), nullable=False),
    sa.Column('trained_through', sa.Integer(), nullable=False),
    sa.Column('examples', sa.Integer(), nullable=False),
    sa.Column('rejected_examples', sa.Integer(), nullable=False),
    sa.Column('trained_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_reject_models_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', name=op.f('pk_reject_models'))
    )
    # Plain ADD COLUMN (see 0004: a batch would copy and drop the sites table).
    op.add_column('sites', sa.Column('reject_threshold', sa.Double(), server_default='0.7', nullable=False))
    op.add_column('sites', sa.Column('reject_hold_trusted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('sites', sa.Column('reject_nudge', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    op.drop_column('sites', 'reject_nudge')
    op.drop_column('sites', 'reject_hold_trusted')
    op.drop_column('sites', 'reject_threshold')
    op.drop_table('reject_models')
