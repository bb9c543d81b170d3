"""The ground floor: errors, settings, the vocabulary of names and tables, what a study
asks (params), the NYSE calendar, tickers, progress and fault points. It imports nothing above it."""
