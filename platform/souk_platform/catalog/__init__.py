"""The catalog: products, their SKUs, stock on hand, and stock reservations for unpaid orders."""
