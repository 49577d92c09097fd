"""Portfolio construction: optimizers, rebalancing with frictions, and position accounting."""
