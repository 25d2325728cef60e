"""Each dashboard assembled from its selectors' results into tables (for the page and its CSV
exports) and charts (Plotly figures): what the views render, with nothing left to query."""

from dashboards.pages.base import Page
from dashboards.pages.debug import debug_page
from dashboards.pages.executive import executive_page
from dashboards.pages.oncall import oncall_page
from dashboards.pages.slos import slo_page

__all__ = ["Page", "debug_page", "executive_page", "oncall_page", "slo_page"]
