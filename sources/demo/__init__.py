"""The demo world's source systems: their records and the deterministic generator behind them."""
