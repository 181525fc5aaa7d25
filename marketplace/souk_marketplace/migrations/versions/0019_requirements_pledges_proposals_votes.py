"""requirements: crowdfunded custom requirements, pledges, proposals, votes, timeline

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 10:00:00.000000

Until the marketplace had its own branch this script was the platform's revision 0019 (off 0014, merged at
0021); it moved here unchanged but for the guard below and the branch's linear order.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # A database migrated before the move already has these tables, made by this same script when it was the
    # platform's revision 0019: adopt them as they are (docs/architecture.md §9).
    if sa.inspect(op.get_bind()).has_table('requirements'):
        return
    op.create_table('requirements',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('posted_by', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('budget_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acceptance_criteria', sa.Text(), nullable=False),
    sa.Column('selection_mode', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('pledged_total', sa.BigInteger(), nullable=False),
    sa.Column('backers_count', sa.Integer(), nullable=False),
    sa.Column('accepted_proposal_id', sa.String(length=64), nullable=True),
    sa.Column('merged_into_id', sa.String(length=64), nullable=True),
    sa.Column('delivered_app_id', sa.String(length=64), nullable=True),
    sa.Column('delivered_app_version_id', sa.String(length=64), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('vote_closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payout_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('developer_amount', sa.BigInteger(), nullable=True),
    sa.Column('fee_amount', sa.BigInteger(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['posted_by'], ['users.id'], name=op.f('fk_requirements_posted_by_users')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_requirements_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirements'))
    )
    with op.batch_alter_table('requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirements_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirements_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirements_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirements_state'), ['state'], unique=False)

    op.create_table('requirement_pledges',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('requirement_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('pledged_by', sa.String(length=64), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('merged_from_id', sa.String(length=64), nullable=True),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('released_amount', sa.BigInteger(), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['pledged_by'], ['users.id'], name=op.f('fk_requirement_pledges_pledged_by_users')),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_requirement_pledges_requirement_id_requirements')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_requirement_pledges_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_pledges'))
    )
    with op.batch_alter_table('requirement_pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_pledges_requirement_id'), ['requirement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_pledges_shop_id'), ['shop_id'], unique=False)

    op.create_table('requirement_proposals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('requirement_id', sa.String(length=64), nullable=False),
    sa.Column('developer_id', sa.String(length=64), nullable=False),
    sa.Column('price_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('delivery_date', sa.Date(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['developer_id'], ['users.id'], name=op.f('fk_requirement_proposals_developer_id_users')),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_requirement_proposals_requirement_id_requirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_proposals'))
    )
    with op.batch_alter_table('requirement_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_proposals_developer_id'), ['developer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_proposals_requirement_id'), ['requirement_id'], unique=False)

    op.create_table('requirement_timeline',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('requirement_id', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_requirement_timeline_requirement_id_requirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_timeline'))
    )
    with op.batch_alter_table('requirement_timeline', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_timeline_requirement_id'), ['requirement_id'], unique=False)

    op.create_table('requirement_votes',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('requirement_id', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('proposal_id', sa.String(length=64), nullable=True),
    sa.Column('decision', sa.String(length=16), nullable=True),
    sa.Column('cast_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['requirement_id'], ['requirements.id'], name=op.f('fk_requirement_votes_requirement_id_requirements')),
    sa.ForeignKeyConstraint(['shop_id'], ['shops.id'], name=op.f('fk_requirement_votes_shop_id_shops')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_requirement_votes')),
    sa.UniqueConstraint('requirement_id', 'shop_id', 'kind', name=op.f('uq_requirement_votes_requirement_id_shop_id_kind'))
    )
    with op.batch_alter_table('requirement_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requirement_votes_requirement_id'), ['requirement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_requirement_votes_shop_id'), ['shop_id'], unique=False)


def downgrade():
    for table in ('requirement_votes', 'requirement_timeline', 'requirement_proposals', 'requirement_pledges',
                  'requirements'):
        op.drop_table(table)
