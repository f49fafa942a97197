"""Foresight TFT v2: one pass per server, seasonal lags, a week of hourly context."""
