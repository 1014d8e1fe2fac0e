"""SQLAlchemy models. Importing this package registers every table on FAB's metadata."""
from flask_appbuilder import Model

from models.org import AccountState, Department, Employee  # noqa: F401

metadata = Model.metadata
