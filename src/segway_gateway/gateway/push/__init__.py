"""Pushes to the operator: built from what vehicles report, kept in the outbox, delivered."""
