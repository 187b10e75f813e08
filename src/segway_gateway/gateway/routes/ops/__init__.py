"""Operational endpoints: liveness."""
