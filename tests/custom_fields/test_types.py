"""Each field type turns form strings, JSON values and Excel cells into one typed value, or refuses them."""
import datetime as dt
import decimal

import pytest

from custom_fields.definitions import Definition, Option
from custom_fields.types import TYPES, FieldValueError

D = decimal.Decimal


def definition(kind, **extra) -> Definition:
    base = dict(id=1, module="customer", key="f1", label="字段", type=kind, required=False, unique=False,
                default=None, help_text=None, max_length=None, min_value=None, max_value=None, list_default=False,
                filterable=True, hidden=False, sort_order=1, options=())
    base.update(extra)
    return Definition(**base)


CITY = definition("select", options=(Option(11, "杭州", 1, False), Option(12, "上海", 2, False),
                                      Option(13, "北京", 3, True)))
TAGS = definition("multiselect", options=(Option(21, "重点", 1, False), Option(22, "老客户", 2, False),
                                          Option(23, "停用的", 3, True)))


def coerce(d, raw):
    return d.field_type.coerce(d, raw)


def refused(d, raw) -> bool:
    try:
        coerce(d, raw)
    except FieldValueError:
        return True
    return False


def test_every_type_of_the_issue_is_there():
    assert set(TYPES) == {"text", "textarea", "integer", "decimal", "money", "date", "datetime", "select",
                          "multiselect", "mobile", "email", "url", "boolean"}


@pytest.mark.parametrize("kind", sorted(TYPES))
def test_empty_input_is_no_value_for_every_type(kind):
    d = CITY if kind == "select" else TAGS if kind == "multiselect" else definition(kind)
    for raw in (None, "", "   ", []):
        assert coerce(d, raw) is None


def test_single_line_text_is_trimmed_and_limited():
    d = definition("text")
    assert coerce(d, "  浙江  杭州\n西湖 ") == "浙江 杭州 西湖"
    assert coerce(d, 12.0) == "12"  # a number typed into a spreadsheet cell
    assert refused(d, "x" * 256) and not refused(d, "x" * 255)
    assert refused(definition("text", max_length=5), "六个字符号码") and coerce(definition("text", max_length=5), "五个字符码")
    assert refused(d, ["a"]) and refused(d, True)


def test_multi_line_text_keeps_its_lines():
    d = definition("textarea")
    assert coerce(d, " 第一行\r\n第二行 ") == "第一行\n第二行"
    assert refused(d, "x" * 10001)
    assert d.field_type.column == "value_long"  # never in an index: PostgreSQL limits a btree entry's size


def test_whole_numbers():
    d = definition("integer", min_value=D(0), max_value=D(10000))
    assert coerce(d, "1,200") == 1200 and coerce(d, 3.0) == 3 and coerce(d, 7) == 7 and coerce(d, "42") == 42
    for bad in ("3.5", "abc", True, "1e400", "NaN"):
        assert refused(d, bad), bad
    assert refused(d, -1) and refused(d, 10001) and coerce(d, 0) == 0 and coerce(d, 10000) == 10000


def test_decimal_numbers_and_money():
    d = definition("decimal")
    assert coerce(d, "3.141592") == D("3.141592") and refused(d, "3.1415926")
    assert coerce(d, 2.5) == D("2.5") and refused(d, "Infinity")
    money = definition("money", min_value=D("0"))
    assert coerce(money, "¥1,200.5") == D("1200.5") and refused(money, "1.005") and refused(money, "-1")
    kind = money.field_type
    stored = kind.read(D("1200.500000"))  # as the database gives it back
    assert str(stored) == "1200.50" and kind.display(money, stored) == "1,200.50"
    assert kind.to_json(money, stored) == "1200.50" and kind.cell(money, stored) == 1200.5


def test_dates_in_the_ways_people_write_them():
    d = definition("date")
    expected = dt.date(2024, 1, 31)
    for raw in ("2024-01-31", "2024/1/31", "2024.01.31", "2024年1月31日", "20240131", dt.datetime(2024, 1, 31, 0, 0),
                expected, "2024-01-31 00:00:00"):
        assert coerce(d, raw) == expected, raw
    for bad in ("31/01/2024", "2024-02-30", "明天", 45322):
        assert refused(d, bad), bad
    assert d.field_type.to_json(d, expected) == "2024-01-31"


def test_date_and_time():
    d = definition("datetime")
    expected = dt.datetime(2024, 1, 31, 14, 30)
    for raw in ("2024-01-31 14:30", "2024-01-31T14:30:00", "2024/01/31 14:30", expected):
        assert coerce(d, raw) == expected, raw
    assert coerce(d, dt.date(2024, 1, 31)) == dt.datetime(2024, 1, 31)
    assert refused(d, "14:30") and refused(d, "2024-13-01 10:00")


def test_single_choice_by_id_or_label_and_only_its_own_options():
    assert coerce(CITY, 12) == 12 and coerce(CITY, "12") == 12 and coerce(CITY, "杭州") == 11
    assert coerce(CITY, 12.0) == 12  # an id read from a spreadsheet
    for bad in ("广州", 21, True, "99"):
        assert refused(CITY, bad), bad
    assert CITY.field_type.column == "option_id"


def test_multiple_choice_is_one_sorted_set_of_option_ids():
    kind = TAGS.field_type
    assert coerce(TAGS, ["老客户", 21, "22"]) == (21, 22)
    assert coerce(TAGS, "重点、老客户") == (21, 22) and coerce(TAGS, "老客户,重点") == (21, 22)
    assert refused(TAGS, ["重点", "不存在"]) and refused(TAGS, [11])
    assert kind.stored((21, 22)) == ",21,22," and kind.read(",21,22,") == (21, 22)
    assert kind.display(TAGS, (22, 21)) == "重点、老客户" and kind.to_json(TAGS, (21, 22)) == [21, 22]


def test_mobile_numbers_are_normalised(ctx):
    d = definition("mobile")
    assert coerce(d, "+86 138-0000-0000") == "13800000000" and coerce(d, 13800000000) == "13800000000"
    assert refused(d, "12345") and refused(d, "23800000000")


def test_email_and_web_address():
    email = definition("email")
    assert coerce(email, " Li.Lei@Example.COM ") == "li.lei@example.com"
    for bad in ("li.lei", "a@b", "a b@c.com"):
        assert refused(email, bad), bad
    url = definition("url")
    assert coerce(url, "www.example.com/a") == "http://www.example.com/a"
    assert coerce(url, "https://crm.example.cn") == "https://crm.example.cn"
    assert refused(url, "ftp://example.com") and refused(url, "localhost")


def test_yes_or_no(ctx):
    d = definition("boolean")
    for raw in (True, 1, "1", "是", "yes", "TRUE", "√"):
        assert coerce(d, raw) is True, raw
    for raw in (False, 0, "0", "否", "no", "false"):
        assert coerce(d, raw) is False, raw
    assert refused(d, "也许") and refused(d, 2)
    assert d.field_type.display(d, True) == "是" and d.field_type.cell(d, False) == "否"


def test_each_type_keeps_its_value_in_one_typed_column():
    columns = {kind: t.column for kind, t in TYPES.items()}
    assert columns["integer"] == columns["money"] == columns["decimal"] == "value_number"
    assert columns["date"] == "value_date" and columns["datetime"] == "value_datetime"
    assert columns["boolean"] == "value_bool" and columns["multiselect"] == "value_text"
    row = TYPES["money"].columns(D("5"))
    assert [k for k, v in row.items() if v is not None] == ["value_number"]


def test_only_text_like_and_whole_number_fields_can_be_unique():
    assert {k for k, t in TYPES.items() if t.can_unique} == {"text", "mobile", "email", "url", "integer"}
    assert TYPES["integer"].unique_value(42) == "42"
