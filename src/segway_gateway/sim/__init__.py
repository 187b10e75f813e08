"""Simulated C80 e-bikes that speak the device link."""
