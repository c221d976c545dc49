"""SQL lives here: one module per kind of record; callers get plain values back."""
