"""Text analysis and dates: normalisation, script folding, segmentation, era dates.

Shared by every stage that reads Chinese text: indexing, querying, OCR's language model and
open review. Nothing here knows about records or backends.
"""
