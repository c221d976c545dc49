"""The event pipeline: the outbox relay publishes committed events to the bus (Redis Streams),
the hub in every process fans them out to websockets, and the leader lock keeps single-leader
jobs single."""
