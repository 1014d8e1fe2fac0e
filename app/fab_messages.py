"""Messages that FAB's own templates show and its Chinese catalog lacks. Listed here so that our catalog,
which is merged over FAB's, carries them (tools/i18n.py extracts msgids from our code only)."""
from flask_babel import lazy_gettext as _l

FAB_MESSAGES = (
    _l("Are you sure you want to delete this item?"),  # the delete button of every list (lib.html)
    _l("Cancel"),
    _l("OK"),
)
