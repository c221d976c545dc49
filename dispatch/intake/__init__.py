"""What comes in and how it is filed: callers' input normalised and bounded, the routing
decision (the router proposes, the call-taker's choices win), answered consultations."""
