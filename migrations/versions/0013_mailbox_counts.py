"""mail sent to one mailbox a day by form posts (confirmations, notices)

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_mailbox_counts',
    sa.Column('mailbox', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('mailbox', 'kind', 'day', name=op.f('pk_mail_mailbox_counts'))
    )


def downgrade():
    op.drop_table('mail_mailbox_counts')
