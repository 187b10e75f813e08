"""Routes of the vendor API: OAuth, queries, controls and settings, in the envelope."""
