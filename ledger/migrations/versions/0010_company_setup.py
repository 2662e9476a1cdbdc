"""company setup: fiscal years, account groups, statistical aggregation, year-end close,
foreign-currency lines and exchange rates

- `entities.fiscal_year_start_month` (1-12; existing entities: January) and
  `entities.retained_earnings_account_id` (where revenue and expense close into);
- `accounts.normal_balance` (DEBIT or CREDIT; existing accounts get their type's),
  `accounts.aggregation` (statistical accounts: FLOW or STOCK; existing ones FLOW, which is
  how they were summed until now) and `accounts.group_id` (the reporting hierarchy);
- `account_groups`: the statements' headings, nested;
- `periods.fiscal_year`: filled from the start date (existing entities start in January);
- `year_end_closes`: each fiscal year's closing entry and, once reopened, its reversal;
- `journal_lines.txn_currency`, `txn_debit`, `txn_credit`, `rate`: a line in a transaction
  currency (nullable columns: posted history keeps its rows and its triggers);
- `exchange_rates`: per entity, currency, rate type and date.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "entities",
        sa.Column("fiscal_year_start_month", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column("entities", sa.Column("retained_earnings_account_id", Id, nullable=True))
    op.create_table(
        "account_groups",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", Id, sa.ForeignKey("account_groups.id"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.UniqueConstraint("entity_id", "code"),
    )
    op.add_column(
        "accounts",
        sa.Column("normal_balance", sa.String(length=6), nullable=False, server_default="DEBIT"),
    )
    op.add_column("accounts", sa.Column("aggregation", sa.String(length=5), nullable=True))
    # SQLite cannot add a column with a foreign key constraint without rebuilding the table;
    # the key is declared in the model, and on PostgreSQL here.
    if op.get_bind().dialect.name == "postgresql":
        op.add_column(
            "accounts",
            sa.Column("group_id", Id, sa.ForeignKey("account_groups.id"), nullable=True),
        )
    else:
        op.add_column("accounts", sa.Column("group_id", Id, nullable=True))
    op.execute(
        "UPDATE accounts SET normal_balance = 'CREDIT' "
        "WHERE type IN ('LIABILITY', 'EQUITY', 'REVENUE')"
    )
    op.execute("UPDATE accounts SET aggregation = 'FLOW' WHERE type = 'STATISTICAL'")

    op.add_column("periods", sa.Column("fiscal_year", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE periods SET fiscal_year = EXTRACT(YEAR FROM end_date)::int")
    else:
        op.execute("UPDATE periods SET fiscal_year = CAST(strftime('%Y', end_date) AS INTEGER)")

    op.create_table(
        "year_end_closes",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        # None: the year had no revenue or expense to close.
        sa.Column("entry_id", Id, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column(
            "retained_earnings_account_id", Id, sa.ForeignKey("accounts.id"), nullable=False
        ),
        sa.Column("closed_at", sa.String(length=32), nullable=False),
        sa.Column("reversal_entry_id", Id, sa.ForeignKey("journal_entries.id"), nullable=True),
        sa.Column("reopened_at", sa.String(length=32), nullable=True),
    )
    op.create_index("ix_year_end_closes_year", "year_end_closes", ["entity_id", "fiscal_year"])

    op.add_column("journal_lines", sa.Column("txn_currency", sa.String(length=3), nullable=True))
    op.add_column("journal_lines", sa.Column("txn_debit", sa.BigInteger(), nullable=True))
    op.add_column("journal_lines", sa.Column("txn_credit", sa.BigInteger(), nullable=True))
    op.add_column("journal_lines", sa.Column("rate", sa.String(length=40), nullable=True))

    op.create_table(
        "exchange_rates",
        sa.Column("id", Id, primary_key=True),
        sa.Column("entity_id", Id, sa.ForeignKey("entities.id"), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_type", sa.String(length=16), nullable=False, server_default="SPOT"),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.UniqueConstraint("entity_id", "currency", "rate_type", "rate_date"),
    )


def downgrade() -> None:
    op.drop_table("exchange_rates")
    for column in ("rate", "txn_credit", "txn_debit", "txn_currency"):
        op.drop_column("journal_lines", column)
    op.drop_index("ix_year_end_closes_year", table_name="year_end_closes")
    op.drop_table("year_end_closes")
    op.drop_column("periods", "fiscal_year")
    for column in ("group_id", "aggregation", "normal_balance"):
        op.drop_column("accounts", column)
    op.drop_table("account_groups")
    op.drop_column("entities", "retained_earnings_account_id")
    op.drop_column("entities", "fiscal_year_start_month")
