"""Search: the searcher, fusion of dense and BM25 lists, filters, the reranker and links to notes."""
