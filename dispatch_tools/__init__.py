"""Tools beside the service: benchmarks and data builders, not loaded by the server."""
