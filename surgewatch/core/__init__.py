"""The ground floor: errors, settings, the vocabulary of names and tables, the NYSE
calendar, tickers, progress and fault points. It imports nothing above it."""
