"""Shared core of the Customer 360 platform: settings, the source data contract and the embedded stack."""
