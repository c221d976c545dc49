"""How a server process runs: settings, the app factory and its typed state, where PostgreSQL
and Redis are (configured or embedded), the connection pool and Redis client, migrations,
logging, metrics, background tasks, ``dispatch serve`` and its demo data."""
