"""Coupons and automatic promotions: pricing discounts at checkout and tracking redemptions."""
