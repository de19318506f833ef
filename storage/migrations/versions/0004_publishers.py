"""publisher, publisher_alias, publisher_action; report.publisher_id and attribution; site.publisher_id

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10

One publisher showed up under two or three names (县住建局, 某县住房和城乡建设局), others were
missing, and coverage had a row per spelling. Now every report points at one registry
publisher, with the evidence that said so; the names it was printed under are its aliases;
an archivist's merges and splits are recorded with what it takes to undo them.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('publisher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('created_year', sa.Integer(), nullable=True),
    sa.Column('abolished_year', sa.Integer(), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['publisher.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['publisher.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('publisher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publisher_region_code'), ['region_code'], unique=False)
    op.create_table('publisher_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publisher_id', sa.Integer(), nullable=False),
    sa.Column('alias', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.String(), nullable=True),
    sa.Column('example_url', sa.String(), nullable=True),
    sa.Column('evidence', sa.String(), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['publisher_id'], ['publisher.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alias', 'publisher_id', 'site_id', name='uq_publisher_alias')
    )
    with op.batch_alter_table('publisher_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publisher_alias_alias'), ['alias'], unique=False)
        batch_op.create_index(batch_op.f('ix_publisher_alias_publisher_id'), ['publisher_id'], unique=False)
    op.create_table('publisher_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('why', sa.String(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publisher_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attribution', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_publisher_id'), ['publisher_id'], unique=False)
        batch_op.create_foreign_key('fk_report_publisher_id', 'publisher', ['publisher_id'], ['id'])
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publisher_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_site_publisher_id', 'publisher', ['publisher_id'], ['id'])


def downgrade() -> None:
    # Aliases and actions first: an alias names a site, and SQLite's batch mode rebuilds `site`
    # by dropping it, which (foreign keys on) must not leave an alias pointing at a dropped row.
    op.drop_table('publisher_action')
    with op.batch_alter_table('publisher_alias', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_alias_publisher_id'))
        batch_op.drop_index(batch_op.f('ix_publisher_alias_alias'))
    op.drop_table('publisher_alias')
    with op.batch_alter_table('site', schema=None) as batch_op:
        batch_op.drop_constraint('fk_site_publisher_id', type_='foreignkey')
        batch_op.drop_column('publisher_id')
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint('fk_report_publisher_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_report_publisher_id'))
        batch_op.drop_column('attribution')
        batch_op.drop_column('publisher_id')
    with op.batch_alter_table('publisher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publisher_region_code'))
        batch_op.drop_index(batch_op.f('ix_publisher_parent_id'))
    op.drop_table('publisher')
