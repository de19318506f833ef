"""url_state.unchanged_checks: how many revalidations in a row found the same bytes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The adaptive revisit policy (crawler/revisit.py) waits longer before asking again for a
report file that keeps answering "unchanged"; this counter is its memory.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0002'
down_revision: Union[str, None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('url_state', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unchanged_checks', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('url_state', schema=None) as batch_op:
        batch_op.drop_column('unchanged_checks')
