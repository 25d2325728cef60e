"""Every read of the dashboards: few queries each, aggregated in SQL and bounded, over stored
results only (nothing heavy is computed while a page renders)."""
