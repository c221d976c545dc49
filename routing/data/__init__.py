"""Training data for the classifier: hand-written fragments, the corpus generator and its output."""
