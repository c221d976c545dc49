"""Tools around the service that do not run inside it: benchmarks, the terminal desk client and
the training-corpus generator. The service imports them only on demand (``dispatch bench``,
``dispatch desk``)."""
