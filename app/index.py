"""The home page after login."""
from flask_appbuilder import IndexView


class CrmIndexView(IndexView):
    index_template = "crm_index.html"
