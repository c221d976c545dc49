"""The classifier's training corpus: hand-written fragments per category and the generator
(``python -m dispatch_tools.corpus.build``) that writes ``routing/data/corpus.jsonl``."""
