"""Search: the backend contract and its implementations, the query language, requests from
parameters, highlighting, fusion, embeddings and vectors."""
