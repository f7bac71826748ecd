"""reports: one per reader (browser token, or network without one), a
network's recent reports, and the moderators' mail about reported comments

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_reports') as batch:
        batch.add_column(sa.Column('reader_hash', sa.String(length=64), nullable=True))
    # Earlier reports: their token, else their address, names the reader (the
    # hashes are of another kind than new ones, but unique per comment alike).
    op.execute(
        "UPDATE comment_reports SET reader_hash = COALESCE(token_hash, ip_hash)"
    )
    with op.batch_alter_table('comment_reports') as batch:
        batch.alter_column('reader_hash', existing_type=sa.String(length=64), nullable=False)
        batch.drop_index('ix_comment_reports_comment_ip')
        batch.drop_index('ix_comment_reports_comment_token')
        batch.create_index('ix_comment_reports_comment_reader', ['comment_id', 'reader_hash'], unique=True)
        batch.create_index('ix_comment_reports_ip_created', ['ip_hash', 'created_at'], unique=False)
    with op.batch_alter_table('moderator_mail_settings') as batch:
        batch.add_column(sa.Column('reports', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('moderator_mail_settings') as batch:
        batch.drop_column('reports')
    # Two readers behind one network would break the old unique index: keep
    # the first report of each network and comment.
    op.execute(
        "DELETE FROM comment_reports WHERE id NOT IN (SELECT MIN(id) FROM "
        "comment_reports GROUP BY comment_id, ip_hash)"
    )
    with op.batch_alter_table('comment_reports') as batch:
        batch.drop_index('ix_comment_reports_ip_created')
        batch.drop_index('ix_comment_reports_comment_reader')
        batch.create_index('ix_comment_reports_comment_token', ['comment_id', 'token_hash'], unique=True)
        batch.create_index('ix_comment_reports_comment_ip', ['comment_id', 'ip_hash'], unique=True)
        batch.drop_column('reader_hash')
