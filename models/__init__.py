"""SQLAlchemy models. Importing this package registers every table on FAB's metadata."""
from flask_appbuilder import Model

from models.call import CallEvent, CallRecord, Seat, SmsMessage, VerificationCode  # noqa: F401
from models.audit import AuditLog  # noqa: F401
from models.auth import LoginSession, LoginThrottle  # noqa: F401
from models.choices import Choice  # noqa: F401
from models.crm import Contact, Customer, CustomerGroup, FollowUp, OwnerHistory, PoolRules  # noqa: F401
from models.jobs import ImportJob  # noqa: F401
from models.org import AccountState, Department, Employee  # noqa: F401
from models.roles import RoleFieldPermission, RoleProfile  # noqa: F401
from models.sales import Contract, Invoice, Opportunity, Product  # noqa: F401
from models.stats_indexes import STATS_INDEXES  # noqa: F401

metadata = Model.metadata
