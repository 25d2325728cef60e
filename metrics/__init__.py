"""The platform metrics M1–M12, FOCUS billing and cost, and SSOps's own SLOs.

Pure modules (no Django): `periods`, `stats`, `calculations`, `focus`, `catalogue`. The rest read
records (`records`), write (`services`), compute and store per period (`compute`), and serve pages
and the API from the stored results (`selectors`, `views`, `api`).
"""
