"""Demo data for a newcomer's first look: a department tree and ~15 employees in every account state."""
from __future__ import annotations

from app import organisation as org
from app.extensions import db
from models.org import Employee

DEMO_PASSWORD = "demo1234"

DEPARTMENTS = [  # (name, parent name)
    ("总公司", None),
    ("销售部", "总公司"),
    ("销售一组", "销售部"),
    ("销售二组", "销售部"),
    ("客服部", "总公司"),
    ("财务部", "总公司"),
]

# (name, mobile, department, role, manager name, gender, state)
EMPLOYEES = [
    ("王建国", "13800000001", "总公司", "销售主管", None, "male", "active"),
    ("李娜", "13800000002", "销售部", "销售主管", "王建国", "female", "active"),
    ("张伟", "13800000003", "销售一组", "销售主管", "李娜", "male", "active"),
    ("刘洋", "13800000004", "销售一组", "销售", "张伟", "male", "active"),
    ("陈静", "13800000005", "销售一组", "销售", "张伟", "female", "active"),
    ("杨帆", "13800000006", "销售一组", "销售", "张伟", "male", "disabled"),
    ("赵敏", "13800000007", "销售二组", "销售主管", "李娜", "female", "active"),
    ("黄磊", "13800000008", "销售二组", "销售", "赵敏", "male", "active"),
    ("周婷", "13800000009", "销售二组", "销售", "赵敏", "female", "inactive"),
    ("吴强", "13800000010", "销售二组", "销售", "赵敏", "male", "resigned"),
    ("徐丽", "13800000011", "客服部", "坐席", "王建国", "female", "active"),
    ("孙浩", "13800000012", "客服部", "坐席", "徐丽", "male", "active"),
    ("马超", "13800000013", "客服部", "坐席", "徐丽", "male", "inactive"),
    ("朱琳", "13800000014", "财务部", "销售", "王建国", "female", "active"),
    ("胡斌", "13800000015", "财务部", "销售", "朱琳", "male", "disabled"),
]


def load_demo_data() -> dict[str, int]:
    from flask import current_app

    sm = current_app.appbuilder.sm
    departments = {}
    for name, parent in DEPARTMENTS:
        departments[name] = org.create_department(name, departments[parent].id if parent else None)
    employees: dict[str, Employee] = {}
    for name, mobile, department, role, manager, gender, state in EMPLOYEES:
        role_obj = sm.find_role(role)
        employees[name] = org.create_employee(
            name=name, mobile=mobile, password=DEMO_PASSWORD, department_id=departments[department].id,
            role_ids=[role_obj.id] if role_obj else [], manager_id=employees[manager].id if manager else None,
            gender=gender,
        )
    for name, *_, state in EMPLOYEES:
        employee = employees[name]
        if state in ("active", "disabled", "resigned"):
            org.activate_employees([employee.id])
        if state == "disabled":
            org.disable_employees([employee.id])
        elif state == "resigned":
            org.resign_employees([employee.id], handover_to_id=employees["赵敏"].id)
    db.session.commit()
    return {"departments": len(departments), "employees": len(employees)}
