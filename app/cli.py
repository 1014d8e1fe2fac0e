"""`flask --app app crm ...`: init, create-admin, demo-data."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

crm = AppGroup("crm", help="CRM administration commands.")
ADMIN_PASSWORD_FILE = "admin-password.txt"


def register(app) -> None:
    from app.sipgw.cli import sip_gateway_command

    crm.add_command(sip_gateway_command)
    app.cli.add_command(crm)


def _instance_dir() -> Path:
    from config import INSTANCE_DIR

    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return INSTANCE_DIR


@crm.command("init")
def init_command() -> None:
    """Upgrade the schema, sync permissions and built-in roles, make sure `admin` exists."""
    from app.errors import CrmError

    try:
        password = prepare_database(os.environ.get("CRM_ADMIN_PASSWORD"))
    except CrmError as error:
        raise click.ClickException("CRM_ADMIN_PASSWORD: " + str(error.message)) from error
    if password:
        click.echo(f"Created the administrator: login admin, password {password}")


def prepare_database(admin_password: str | None = None) -> str | None:
    """What `crm init` does (also for the tests and benchmarks): upgrade the schema, sync permissions
    and built-in roles, seed the option lists, make sure `admin` exists. Returns a password it set."""
    from flask_migrate import upgrade

    from app import sqlite_stats
    from app.extensions import db

    upgrade()
    sync_security()
    seed_choices()
    password = ensure_admin(admin_password)
    sqlite_stats.refresh_engine(db.engine)  # the planner's statistics, once a table has grown (SQLite)
    return password


def sync_security() -> None:
    """Create every view's permission rows, the administrator role (all of them) and the built-in roles.

    Built-in roles are created with their matrix once; later edits by an administrator are kept."""
    from app.extensions import db
    from app.permissions import ADMIN_ROLE, BUILTIN_ROLES, MODULES
    from models.roles import RoleProfile

    appbuilder = current_app.appbuilder
    sm = appbuilder.sm
    admin_role = sm.find_role(ADMIN_ROLE) or sm.add_role(ADMIN_ROLE)
    # the screens' and APIs' permissions only: no menu_access rows. The navbar is derived from each screen's
    # view right (app/security.py), and a menu named like a permission resource ("customer", "Settings")
    # would have its menu_access row "deleted" by every view on that resource, which FAB refuses once a
    # role holds it: the "Refused to delete permission view" warnings of a second `crm init`.
    _drop_menu_permissions(sm)
    for baseview in appbuilder.baseviews:
        if baseview.base_permissions and baseview.class_permission_name:
            sm.add_permissions_view(baseview.base_permissions, baseview.class_permission_name)
    # the whole matrix exists even for modules whose screens come later, so roles can be set up now
    for module, (_label, actions) in MODULES.items():
        for action in actions:
            pv = sm.add_permission_view_menu(f"can_{action}", module)
            sm.add_permission_role(admin_role, pv)
    if db.session.get(RoleProfile, admin_role.id) is None:
        db.session.add(RoleProfile(role_id=admin_role.id, kind="customer", data_scope="all"))
    for role_name, builtin in BUILTIN_ROLES.items():
        role = sm.find_role(role_name)
        if role is not None:
            continue
        role = sm.add_role(role_name)
        for permission, resource in builtin.permissions:
            pv = sm.find_permission_view_menu(permission, resource)
            if pv is None:
                raise click.ClickException(f"built-in role {role_name}: no permission {permission} on {resource}")
            sm.add_permission_role(role, pv)
        db.session.add(RoleProfile(role_id=role.id, kind=builtin.kind, data_scope=builtin.data_scope,
                                   analysis=",".join(builtin.analysis)))
    db.session.flush()
    # menus follow the matrix (a module's menu entry with its view right), for every role
    db.session.commit()


def _drop_menu_permissions(sm) -> None:
    """Remove menu_access rows (from databases made before menus followed the screens' rights)."""
    from app.extensions import db

    permission = sm.find_permission("menu_access")
    if permission is None:
        return
    for pv in list(db.session.query(sm.permissionview_model).filter_by(permission_id=permission.id)):
        for role in list(db.session.query(sm.role_model).filter(sm.role_model.permissions.contains(pv))):
            role.permissions.remove(pv)
        db.session.delete(pv)
    db.session.commit()


def seed_choices() -> None:
    """The default option lists (客户状态, ...), for a kind that has none yet."""
    from app.extensions import db
    from models.choices import CHOICE_KINDS, Choice

    existing = set(db.session.scalars(select(Choice.kind).distinct()))
    for kind, (_label, names) in CHOICE_KINDS.items():
        if kind not in existing:
            db.session.add_all(Choice(kind=kind, name=name, sort_order=i) for i, name in enumerate(names))
    db.session.commit()


def ensure_admin(password: str | None = None) -> str | None:
    """Create the built-in `admin` if missing; return the password when one was set here."""
    from app.errors import CrmError
    from app.organisation import check_password, hash_password
    from app.permissions import ADMIN_ROLE
    from app.extensions import db
    from models.org import AccountState, Employee

    sm = current_app.appbuilder.sm
    if db.session.scalar(select(Employee).where(Employee.username == "admin")) is not None:
        return None
    if password:
        check_password(password, login="admin")  # CRM_ADMIN_PASSWORD follows the rule too
    while not password:  # a generated one must pass the rule like any other
        password = secrets.token_urlsafe(9)
        try:
            check_password(password, login="admin")
        except CrmError:
            password = None
    admin = Employee(
        username="admin", first_name="管理员", last_name="", email="admin@employee.invalid",
        password=hash_password(password), state=AccountState.ACTIVE.value, active=True,
        roles=[sm.find_role(ADMIN_ROLE)],
    )
    db.session.add(admin)
    db.session.commit()
    if not os.environ.get("CRM_ADMIN_PASSWORD"):
        path = _instance_dir() / ADMIN_PASSWORD_FILE
        path.write_text(password)
        path.chmod(0o600)
    return password


@crm.command("create-admin")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_admin_command(password: str) -> None:
    """Create the built-in `admin`, or set its password if it exists."""
    from app import organisation as org
    from app.extensions import db
    from models.org import Employee

    from app.errors import CrmError

    admin = db.session.scalar(select(Employee).where(Employee.username == "admin"))
    try:
        if admin is None:
            ensure_admin(org.check_password(password, login="admin"))
        else:
            org.reset_password(admin.id, password)
    except CrmError as error:
        raise click.ClickException(str(error.message)) from error
    click.echo("The administrator `admin` is ready.")


@crm.command("login-info")
def login_info_command() -> None:
    """Print where to log in and, while it is still the one generated at init, the admin password."""
    from werkzeug.security import check_password_hash

    from app.extensions import db
    from models.org import Employee

    admin = db.session.scalar(select(Employee).where(Employee.username == "admin"))
    path = _instance_dir() / ADMIN_PASSWORD_FILE
    password = path.read_text().strip() if path.exists() else None
    if admin is not None and password and check_password_hash(admin.password, password):
        click.echo(f"Log in as: admin / {password}")
    else:
        click.echo("Log in as: admin (password: CRM_ADMIN_PASSWORD, or the one you set)")


@crm.command("pool-reclaim")
def pool_reclaim_command() -> None:
    """Return customers without a follow-up for the configured number of days to the pool (run daily)."""
    from app.customers import auto_release

    moved = auto_release()
    click.echo(f"{moved} customer(s) returned to the public pool.")


@crm.command("audit-purge")
def audit_purge_command() -> None:
    """Remove audit-log entries older than AUDIT_RETENTION_DAYS (run daily)."""
    from app import audit

    removed = audit.purge()
    click.echo(f"{removed} audit log entr{'y' if removed == 1 else 'ies'} older than {audit.retention_days()} "
               f"days removed.")


@crm.command("purge-deleted")
def purge_deleted_command() -> None:
    """Remove records in the recycle bin for more than RECYCLE_BIN_DAYS, with their custom values and the
    records deleted with them (run daily)."""
    from app import recycle

    removed = recycle.purge_expired()
    click.echo(f"{removed} record(s) deleted more than {recycle.days()} days ago removed from the recycle bin.")


@crm.command("demo-data")
def demo_data_command() -> None:
    """Load demo data into an empty database (a department tree and employees in every state)."""
    from app.demo import load_demo_data
    from app.extensions import db
    from models.org import Department

    if db.session.scalar(select(func.count()).select_from(Department)):
        click.echo("The database already has data; demo data not loaded.")
        return
    summary = load_demo_data()
    from app import sqlite_stats

    sqlite_stats.refresh_engine(db.engine)
    click.echo("Demo data loaded: " + ", ".join(f"{v} {k}" for k, v in summary.items()))


# ---------------------------------------------------------------- 坐席 (呼叫中心 → 财务信息 → 坐席列表)

seat = AppGroup("seat", help="Seats (坐席): add, extend, list.")
crm.add_command(seat)


@seat.command("add")
@click.option("--number", required=True, help="坐席编号, e.g. 11201")
@click.option("--name", default=None, help="坐席名称 (default: 坐席<number>)")
@click.option("--days", type=int, default=365, show_default=True, help="subscription length in days")
@click.option("--provider", default="device", show_default=True)
@click.option("--display-line", default=None, help="外显号码")
def seat_add_command(number, name, days, provider, display_line) -> None:
    """Add a seat running for DAYS from now."""
    import datetime as dt

    from app import seats
    from app.errors import CrmError
    from models.mixins import utcnow

    try:
        created = seats.create_seat({"number": number, "name": name or f"坐席{number}", "provider": provider,
                                     "display_line": display_line,
                                     "expires_at": utcnow() + dt.timedelta(days=days)})
    except CrmError as error:
        raise click.ClickException(str(error.message))
    click.echo(f"Seat {created.number} (id {created.id}) runs until {created.expires_at:%Y-%m-%d %H:%M} UTC.")


@seat.command("extend")
@click.argument("number")
@click.option("--days", type=int, required=True)
def seat_extend_command(number, days) -> None:
    """Extend the seat NUMBER by DAYS (from now when it has expired)."""
    from app import seats
    from app.errors import CrmError
    from app.extensions import db
    from models.call import Seat

    found = db.session.scalar(select(Seat).where(Seat.number == number))
    if found is None:
        raise click.ClickException(f"No seat {number}.")
    try:
        extended = seats.extend_seat(found.id, days)
    except CrmError as error:
        raise click.ClickException(str(error.message))
    click.echo(f"Seat {extended.number} runs until {extended.expires_at:%Y-%m-%d %H:%M} UTC.")


@seat.command("list")
def seat_list_command() -> None:
    """Every seat: number, name, time left, bound mobile, employee, status."""
    from app.extensions import db
    from models.call import Seat

    for row in db.session.scalars(select(Seat).order_by(Seat.number)):
        click.echo("\t".join([row.number, row.name, row.remaining(), row.bound_mobile or "-",
                              row.employee_name() or "-", row.status]))


@crm.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run background jobs (imports) from Redis (REDIS_URL), queue IMPORT_QUEUE. Jobs left "running" by a
    worker that died are failed first (their heartbeat stopped)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from app.importing.jobs import sweep

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without it imports run in the web process.")
    swept = sweep()
    if swept:
        click.echo(f"{swept} interrupted import job(s) marked failed")
    connection = Redis.from_url(url)
    queue = Queue(current_app.config.get("IMPORT_QUEUE", "crm-import"), connection=connection)
    # SimpleWorker: the job runs in this process, inside the application's context (no fork, so the
    # database pool is never shared with a child)
    SimpleWorker([queue], connection=connection).work(burst=burst, with_scheduler=False)
