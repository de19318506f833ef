"""figure_extraction and report_figure: the statistics read out of archived report files

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Reports since 2019 print fixed tables (主动公开, 依申请公开, 复议诉讼), earlier ones state
figures in sentences. Each archived file is read once per extractor version (figures/), and
what it said is kept cell by cell with where it was read; a reading that found nothing is kept
too, so a report without tables is not read again and again.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('figure_extraction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('extractor_version', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=True),
    sa.Column('layout', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('figures', sa.Integer(), nullable=False),
    sa.Column('failed_checks', sa.Integer(), nullable=False),
    sa.Column('checks', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('figures_version', sa.String(length=32), nullable=True),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('capture_id', 'extractor_version', name='uq_figure_extraction')
    )
    with op.batch_alter_table('figure_extraction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_figure_extraction_capture_id'), ['capture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_figure_extraction_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_figure_extraction_sha256'), ['sha256'], unique=False)
    op.create_table('report_figure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('capture_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('table', sa.String(length=32), nullable=False),
    sa.Column('row', sa.String(), nullable=False),
    sa.Column('column', sa.String(), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('printed', sa.String(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('path', sa.String(), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('evidence', sa.String(), nullable=False),
    sa.Column('extractor_version', sa.String(length=32), nullable=False),
    sa.Column('extracted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['capture_id'], ['capture.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_figure_capture_id'), ['capture_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_figure_report_id'), ['report_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_figure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_figure_report_id'))
        batch_op.drop_index(batch_op.f('ix_report_figure_capture_id'))
    op.drop_table('report_figure')
    with op.batch_alter_table('figure_extraction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_figure_extraction_sha256'))
        batch_op.drop_index(batch_op.f('ix_figure_extraction_report_id'))
        batch_op.drop_index(batch_op.f('ix_figure_extraction_capture_id'))
    op.drop_table('figure_extraction')
