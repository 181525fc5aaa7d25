"""indexes for reports: orders by shop and paid/created time, carts by shop and created time

Revision ID: 0012
Revises: 0007
Create Date: 2026-11-25 16:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_shop_paid", ["shop_id", "paid_at"], unique=False)
        batch_op.create_index("ix_orders_shop_created", ["shop_id", "created_at"], unique=False)
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.create_index("ix_carts_shop_created", ["shop_id", "created_at"], unique=False)


def downgrade():
    with op.batch_alter_table("carts", schema=None) as batch_op:
        batch_op.drop_index("ix_carts_shop_created")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_shop_created")
        batch_op.drop_index("ix_orders_shop_paid")
