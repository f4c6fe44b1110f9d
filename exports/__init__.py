"""Status sheets for leadership, district offices and schools: XLSX (openpyxl) and CSV.

Built from the same marts as the dashboard (``data_access.evaluate``) through the same scope
filter (``data_access.access``): a district office's file holds its district only.

- ``exports.tables``: the tables (DataFrames) every format writes;
- ``exports.status_workbook``: the XLSX workbooks (city, district, institution checklist);
- ``exports.csv_export``: the same tables as CSV (UTF-8 with BOM for Excel);
- ``exports.safety``: spreadsheet-injection guard shared by both.
"""
