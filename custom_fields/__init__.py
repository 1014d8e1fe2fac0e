"""Custom fields (自定义字段): fields that administrators add to 客户, 联系人, 产品, 合同 and 发票 at run time,
stored as EAV (see ../shared/ARCHITECTURE.md and custom_fields/models.py).

What other code uses:

    custom_fields.MODULES                     # the module keys that can have custom fields
    custom_fields.definitions("customer")     # the current fields (plain snapshots), read per request
    custom_fields.values.check / clean / save # the one validation and the write, for forms, API, importer
    custom_fields.io.columns("customer")      # template/export columns: header, key, type, options
"""
from custom_fields.definitions import PREFIX, Definition, Option, by_name, definitions  # noqa: F401
from custom_fields.models import RECORD_MODELS, VALUE_MODELS  # noqa: F401

MODULES = tuple(RECORD_MODELS)
