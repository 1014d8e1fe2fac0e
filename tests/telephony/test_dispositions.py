"""SIP final responses -> the CRM's dispositions (接通, 忙, 无人接听, 坐席未接, 空号, 取消, 失败)."""
import pytest

from app.sipgw import dispositions
from models.call import DISPOSITIONS


@pytest.mark.parametrize("code, expected", [
    (486, "busy"), (600, "busy"), (408, "no_answer"), (480, "no_answer"), (404, "invalid_number"),
    (604, "invalid_number"), (484, "invalid_number"), (403, "failed"), (503, "failed"), (603, "failed"),
])
def test_customer_leg_codes(code, expected):
    assert dispositions.customer_leg(code) == expected


@pytest.mark.parametrize("code, expected", [
    (486, "agent_no_answer"), (480, "agent_no_answer"), (408, "agent_no_answer"), (603, "agent_no_answer"),
    (404, "failed"), (500, "failed"),
])
def test_agent_leg_codes(code, expected):
    assert dispositions.agent_leg(code) == expected


def test_every_disposition_is_one_the_crm_knows():
    known = dict(DISPOSITIONS)
    produced = {dispositions.customer_leg(c) for c in range(300, 700)} | {dispositions.agent_leg(c)
                                                                          for c in range(300, 700)}
    assert produced | {"answered", "cancelled"} <= set(known)


def test_raw_cause_keeps_the_code_and_fits_the_column():
    assert dispositions.raw_cause(486, "Busy Here") == "SIP 486 Busy Here"
    assert dispositions.raw_cause(None, "timeout") == "timeout"
    assert len(dispositions.raw_cause(500, "x" * 200)) == 64
