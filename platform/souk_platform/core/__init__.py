"""Building blocks every domain uses: ids, clock, money, errors, pagination, transactions."""
