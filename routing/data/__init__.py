"""Training and evaluation data for the classifier; the corpus generator is ``dispatch_tools/corpus``."""
