"""The knowledge base (知识库): search terms, import and export, and the starter entries."""
