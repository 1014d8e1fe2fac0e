"""Import (导入): a ModuleSpec's `importer` declares the template; this package checks the file, runs the
job (app.importing.runner) in a worker (app.importing.jobs) and writes the template and error workbooks
(app.importing.workbooks). Rows are read with calamine and written with Core / COPY, never one ORM object
per row."""
