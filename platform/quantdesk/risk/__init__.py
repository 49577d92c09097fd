"""Risk: pre-trade checks, limits, trading state and kill switch, VaR/ES, stress, monitoring."""
