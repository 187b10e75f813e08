"""The SDK: `Client` and `AsyncClient` for this gateway or the vendor's cloud."""
