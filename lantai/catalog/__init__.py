"""The catalog model (DA/T 18 records, DA/T 13 档号), the archival hierarchy and labels."""
