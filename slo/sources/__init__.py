"""Sources of SLO data: Prometheus (prometheus.py) and SSOps's own records (platform.py), behind
the interface of base.py; factory.py builds them from settings for one evaluation run."""
