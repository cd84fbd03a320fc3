"""The rules need no database: these tests run once, not again on PostgreSQL."""
