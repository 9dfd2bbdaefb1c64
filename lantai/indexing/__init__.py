"""From catalogs to an index: import, what a record contributes to an index (field texts,
token streams, passages), and the indexing service."""
