"""SSOps's own SLOs, as OpenSLO v1 files (imported by `slo_import_ssops` and by seed_demo)."""
