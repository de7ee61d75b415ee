"""Faker generator of the three raw sources (DESIGN.md section 4)."""
