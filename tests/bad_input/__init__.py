"""Bad input at every door where a file or a form enters SSOps: each hostile input gets a clear
error that names the place (file, document, row and column, or field) and changes nothing — every
row of the catalog, SLO and audit tables is the same afterwards (`changes_nothing`). Then the two
ways in which accepted text could still do harm: PromQL built from label values (the query sent to
Prometheus keeps a hostile value a value) and HTML in user-supplied text (escaped on every page),
and CSV exports (a cell that a spreadsheet would run as a formula is neutralised).

Each door appears here at least once. What is already tested thoroughly elsewhere is not repeated:
- catalog_import lint messages and all-or-nothing: tests/catalog/test_catalog_import.py,
  test_template_spec.py (each problem names its field), provisioning/test_runbooks.py (runbook
  fields, bad run parameters change nothing);
- policies: tests/catalog/test_policies.py (broken modules, failing examples), test_admin.py;
- request parameters: tests/catalog/test_submit.py (schema errors per field, nothing reserved),
  test_pages.py (form errors next to each field), test_cli.py (field errors, --param typing);
- slo_import: tests/slo/test_import.py (queries, windows, objectives, malformed files),
  test_openslo_examples.py (every published example imported or refused naming the field),
  test_api.py (a refused change changes nothing), test_promql_and_grouping.py (quoting);
- FOCUS CSV: tests/metrics/test_billing_import.py (row and column named, whole file or
  nothing), test_pages_and_api.py (upload through the API);
- API fuzzing from the OpenAPI schema (negative data rejected): tests/core/test_api_fuzz.py;
  audit filters: tests/audit/test_api_and_page.py.
"""
