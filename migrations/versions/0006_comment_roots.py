"""each reply names its top-level comment, so a thread pages by top-level comments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, not a batch (see 0004). No foreign key: SQLite cannot
    # add one in place, and the purge clears the roots it deletes itself.
    op.add_column('comments', sa.Column('root_id', sa.Integer(), nullable=True))
    op.create_index('ix_comments_root_created', 'comments', ['root_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_comments_thread_root_created', 'comments', ['thread_id', 'root_id', 'created_at', 'id'], unique=False)
    # Backfill: a reply's root is its parent's root, or its parent. Each pass
    # reaches one level deeper; threads are rarely more than a few levels deep.
    comments = sa.table('comments', sa.column('id'), sa.column('parent_id'), sa.column('root_id'))
    parent = comments.alias('parent')
    while True:
        root_of_parent = (
            sa.select(sa.func.coalesce(parent.c.root_id, parent.c.id))
            .where(parent.c.id == comments.c.parent_id)
            .scalar_subquery()
        )
        settled = (
            sa.select(parent.c.id)
            .where(parent.c.id == comments.c.parent_id)
            .where(sa.or_(parent.c.parent_id.is_(None), parent.c.root_id.is_not(None)))
            .exists()
        )
        changed = op.get_bind().execute(
            sa.update(comments)
            .where(comments.c.parent_id.is_not(None), comments.c.root_id.is_(None), settled)
            .values(root_id=root_of_parent)
        ).rowcount
        if not changed:
            break


def downgrade():
    op.drop_index('ix_comments_thread_root_created', table_name='comments')
    op.drop_index('ix_comments_root_created', table_name='comments')
    op.drop_column('comments', 'root_id')
