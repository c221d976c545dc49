"""民生110 dispatch service: intake, routing, live dispatch to agency desks, deadlines."""

__version__ = "0.1.0"
