"""The file's header against the template: an exact match, or the importer's mapping (file column ->
template column or ignored). The error workbook's first column (错误原因) is always ignored."""
from __future__ import annotations

import json
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import CrmError

ERROR_HEADER = "错误原因(导入时需删除本列)"
# words people use in their own spreadsheets for the template's columns
ALIASES = {"手机号": ("手机", "电话", "手机号码", "联系电话", "mobile", "phone"),
           "公司名称": ("公司", "单位", "企业", "客户名称", "company"),
           "联系人": ("姓名", "联系人姓名", "name", "contact"),
           "产品编码": ("编码", "编号", "code"), "产品名称": ("品名", "名称")}


class HeaderError(CrmError):
    """A header that differs from the template: the message names the columns; `columns` and `guess`
    let the dialog offer the mapping step."""

    def __init__(self, message, header, template, guess):
        super().__init__(message, field="file")
        self.header, self.template, self.guess = header, template, guess


def _norm(text: str) -> str:
    return "".join(str(text or "").split()).lstrip("*").lower()


def parse_mapping(raw) -> Optional[dict]:
    if raw in (None, "", b""):
        return None
    try:
        value = json.loads(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        raise CrmError(_l("The column mapping is not valid JSON."), field="mapping")
    if not isinstance(value, dict) or not all(isinstance(k, str) and (v is None or isinstance(v, str))
                                              for k, v in value.items()):
        raise CrmError(_l('The column mapping must be {"file column": "template column" or null}.'),
                       field="mapping")
    return value


def guess(header: list[str], columns) -> dict:
    """{file column: template column header or None}, from the names."""
    by_norm = {_norm(c.header): c.header for c in columns}
    result, taken = {}, set()
    for name in header:
        if not name or name == ERROR_HEADER:
            continue
        target = by_norm.get(_norm(name))
        if target is None:
            for column in columns:
                words = (_norm(column.bare),) + tuple(_norm(a) for a in ALIASES.get(column.bare, ()))
                if any(w and (w == _norm(name) or w in _norm(name) or _norm(name) in w) for w in words):
                    target = column.header
                    break
        if target in taken:
            target = None
        taken.add(target)
        result[name] = target
    return result


def resolve(header: list[str], columns, mapping: Optional[dict]) -> dict:
    """{file column index: TemplateColumn}; refuses a header that differs from the template (without a
    mapping) or a mapping that leaves a required column out."""
    by_header = {c.header: c for c in columns}
    by_bare = {c.bare: c for c in columns}
    result = {}
    if mapping is None:
        missing = [c.header for c in columns if c.header not in header and c.bare not in header]
        unexpected = [h for h in header if h and h != ERROR_HEADER and h not in by_header and h not in by_bare]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(_("missing columns %(names)s", names="、".join(missing)))
            if unexpected:
                parts.append(_("unexpected columns %(names)s", names="、".join(unexpected)))
            raise HeaderError(_l("The header differs from the template: %(problems)s. Download the template, "
                                 "or map the columns.", problems="; ".join(parts)),
                              header, [c.header for c in columns], guess(header, columns))
        for index, name in enumerate(header):
            column = by_header.get(name) or by_bare.get(name)
            if column is not None and name != ERROR_HEADER:
                result[index] = column
        return result
    used = set()
    for index, name in enumerate(header):
        if name not in mapping or mapping[name] is None or name == ERROR_HEADER:
            continue
        target = mapping[name]
        column = by_header.get(target) or by_bare.get(target.lstrip("*"))
        if column is None:
            raise CrmError(_l("The mapping names a column the template does not have: %(name)s", name=target),
                           field="mapping")
        if column.header in used:
            raise CrmError(_l("Two file columns are mapped to %(name)s.", name=column.header), field="mapping")
        used.add(column.header)
        result[index] = column
    unknown = [name for name in mapping if name not in header]
    if unknown:
        raise CrmError(_l("The mapping names a column the file does not have: %(name)s", name=unknown[0]),
                       field="mapping")
    missing = [c.header for c in columns if c.required and c.header not in used]
    if missing:
        raise CrmError(_l("The header differs from the template: %(problems)s. Download the template, "
                          "or map the columns.", problems=_("missing columns %(names)s", names="、".join(missing))),
                       field="mapping")
    return result
