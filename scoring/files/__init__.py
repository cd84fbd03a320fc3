"""The formats: the scheme file, the imports (.csv, .xlsx) and the exports (CSV, JSON, XLSX,
PDF). They read and write bytes and call operations and queries like any view."""
