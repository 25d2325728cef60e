"""The demo's simulated services: their traffic model, history backfill and live exporter."""
