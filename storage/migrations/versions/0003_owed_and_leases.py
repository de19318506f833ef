"""owed_file (what a run meant to archive and did not) and site_lease (one run per site)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A run interrupted, a store that filled up or went away, an archiving process killed: each
leaves files not archived. They were lost silently when their report page was archived (the
page is then "not due" and its files never asked for again); now they are owed, durably, and
the next run fetches them first. Two crawls of one site at once shared each other's runs; a
lease with a heartbeat lets one in at a time.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('owed_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.String(), nullable=False),
    sa.Column('url', sa.String(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('source_page', sa.String(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('first_owed', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'url', name='uq_owed_file_site_url')
    )
    with op.batch_alter_table('owed_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owed_file_site_id'), ['site_id'], unique=False)
    op.create_table('site_lease',
    sa.Column('site_id', sa.String(length=200), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('site_id')
    )


def downgrade() -> None:
    op.drop_table('site_lease')
    with op.batch_alter_table('owed_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owed_file_site_id'))
    op.drop_table('owed_file')
