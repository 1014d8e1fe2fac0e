"""Unbound extensions; create_app() binds them."""
from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

db = get_sqla_class()()
appbuilder = AppBuilder(update_perms=False)
migrate = Migrate()
# every form POST carries a token; with it FAB also refuses state changes over GET
csrf = CSRFProtect()
