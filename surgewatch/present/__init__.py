"""Presentation: how figures read as words, tables, CSV and JSON documents (formats,
sentences, output, documents, the analogs' document and table)."""
