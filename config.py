"""Settings. Every value can be overridden from the environment."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # psycopg 3 is the driver we install; accept the common spellings
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix):]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'crm.db'}"


def _derived_secret(name: str, purpose: str) -> str:
    """A secret from the environment, else one derived from SECRET_KEY (the same in every process of one
    instance: the CRM and its SIP gateway agree without extra setup)."""
    if os.environ.get(name):
        return os.environ[name]
    import hashlib
    import hmac

    return hmac.new(_secret_key().encode(), purpose.encode(), hashlib.sha256).hexdigest()


class Config:
    SECRET_KEY = _secret_key()
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # import (导入): limits, the queue of `crm worker`, chunk size, heartbeat
    IMPORT_QUEUE = os.environ.get("IMPORT_QUEUE", "crm-import")
    IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", 50 * 1024 * 1024))
    IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", 1_000_000))
    IMPORT_MAX_UNZIPPED_BYTES = int(os.environ.get("IMPORT_MAX_UNZIPPED_BYTES", 1024 * 1024 * 1024))
    # an .xlsx with more data rows than this is read in flat memory (openpyxl read-only) instead of calamine
    IMPORT_STREAM_XLSX_ROWS = int(os.environ.get("IMPORT_STREAM_XLSX_ROWS", 200_000))
    IMPORT_CHUNK_ROWS = int(os.environ.get("IMPORT_CHUNK_ROWS", 5000))
    # export (导出): rows read per keyset chunk, with their custom values in one query per chunk
    EXPORT_CHUNK_ROWS = int(os.environ.get("EXPORT_CHUNK_ROWS", 2000))
    IMPORT_HEARTBEAT_SECONDS = float(os.environ.get("IMPORT_HEARTBEAT_SECONDS", 5))
    IMPORT_STALE_SECONDS = float(os.environ.get("IMPORT_STALE_SECONDS", 60))

    APP_NAME = "CRM"
    # the data center's days run from midnight to midnight in this zone (the database stores naive UTC)
    TIMEZONE = os.environ.get("CRM_TIMEZONE", "Asia/Shanghai")
    APP_THEME = ""
    # the schema is made by migrations and permissions are synced by `flask crm init`
    FAB_CREATE_DB = False
    FAB_UPDATE_PERMS = os.environ.get("FAB_UPDATE_PERMS", "0") == "1"
    FAB_SECURITY_MANAGER_CLASS = "app.security.CrmSecurityManager"
    FAB_API_SWAGGER_UI = True
    FAB_ADD_SECURITY_API = False
    FAB_ROLES_MAPPING = {}
    AUTH_TYPE = 1  # AUTH_DB
    AUTH_ROLE_ADMIN = "管理员"
    AUTH_ROLE_PUBLIC = "Public"
    AUTH_USER_REGISTRATION = False
    FAB_PASSWORD_HASH_METHOD = os.environ.get("FAB_PASSWORD_HASH_METHOD", "scrypt")
    FAB_API_MAX_PAGE_SIZE = 100
    JWT_ACCESS_TOKEN_EXPIRES = 12 * 3600

    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "app" / "translations")
    LANGUAGES = {
        "zh": {"flag": "cn", "name": "中文"},
        "en": {"flag": "us", "name": "English"},
    }
    WTF_CSRF_ENABLED = True
    # 审计日志: how long entries are kept; `flask crm audit-purge` removes older ones
    AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "365"))
    # 回收站: days a deleted record can be restored; `flask crm purge-deleted` removes older ones
    RECYCLE_BIN_DAYS = int(os.environ.get("RECYCLE_BIN_DAYS", "30"))
    # login lockout: this many failed logins of one account within the window lock it for the window
    LOGIN_LOCKOUT_FAILURES = int(os.environ.get("LOGIN_LOCKOUT_FAILURES", "10"))
    LOGIN_LOCKOUT_MINUTES = float(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
    # per client address (any accounts): past this many failures in the window, each further failure makes
    # the address wait 1, 2, 4 ... seconds, at most LOGIN_IP_MAX_DELAY_SECONDS (answered 429 + Retry-After)
    LOGIN_IP_FREE_FAILURES = int(os.environ.get("LOGIN_IP_FREE_FAILURES", "20"))
    LOGIN_IP_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_IP_MAX_DELAY_SECONDS", "60"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # the session cookie's Secure flag: "auto" = when the request is https (or PREFERRED_URL_SCHEME is https),
    # "1" = always, "0" = never (app/headers.py)
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "auto")
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    # behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host (0 = none trusted)
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    # a web session without a request for this long ends (0 = never); API tokens are not affected
    SESSION_IDLE_MINUTES = float(os.environ.get("SESSION_IDLE_MINUTES", "120"))
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    # SQLite: how often the server checks its planner statistics and re-analyzes a table that has grown or
    # shrunk twofold (app/sqlite_stats.py); 0 = never
    SQLITE_ANALYZE_SECONDS = float(os.environ.get("SQLITE_ANALYZE_SECONDS", "3600"))
    # 呼叫中心: the SMS gateway for seat-binding codes (outbox: kept for administrators to read; http: posted
    # to SMS_HTTP_URL), and the secret the telephony gateway signs its webhook with (default: from SECRET_KEY)
    SMS_GATEWAY = os.environ.get("SMS_GATEWAY", "outbox")
    SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL") or None

    # call events: the HMAC secret of the webhook POST /api/v1/call/events/<provider>
    CALL_WEBHOOK_SECRET = _derived_secret("CALL_WEBHOOK_SECRET", "call-webhook")
    # the SIP callback gateway (`flask --app app crm sip-gateway`, provider `sip_callback`)
    SIP_GATEWAY_URL = os.environ.get("SIP_GATEWAY_URL", "http://127.0.0.1:5080")
    SIP_GATEWAY_TOKEN = _derived_secret("SIP_GATEWAY_TOKEN", "sip-gateway")
    SIP_GATEWAY_HTTP_HOST = os.environ.get("SIP_GATEWAY_HTTP_HOST", "127.0.0.1")
    SIP_GATEWAY_HTTP_PORT = int(os.environ.get("SIP_GATEWAY_HTTP_PORT", "5080"))
    SIP_GATEWAY_SIP_HOST = os.environ.get("SIP_GATEWAY_SIP_HOST", "127.0.0.1")
    SIP_GATEWAY_SIP_PORT = int(os.environ.get("SIP_GATEWAY_SIP_PORT", "5070"))
    SIP_GATEWAY_WEBHOOK_URL = os.environ.get("SIP_GATEWAY_WEBHOOK_URL",
                                             "http://127.0.0.1:8080/api/v1/call/events/sip_callback")
    SIP_GATEWAY_SPOOL_DIR = os.environ.get("SIP_GATEWAY_SPOOL_DIR", str(INSTANCE_DIR / "sip-spool"))
    # the trunk: an IP-PBX or a carrier's SIP trunk (UDP); digest credentials when it asks for them
    SIP_TRUNK_HOST = os.environ.get("SIP_TRUNK_HOST", "127.0.0.1")
    SIP_TRUNK_PORT = int(os.environ.get("SIP_TRUNK_PORT", "5060"))
    SIP_TRUNK_TRANSPORT = os.environ.get("SIP_TRUNK_TRANSPORT", "udp")
    SIP_TRUNK_USERNAME = os.environ.get("SIP_TRUNK_USERNAME", "")
    SIP_TRUNK_PASSWORD = os.environ.get("SIP_TRUNK_PASSWORD", "")
    # ring timeouts in seconds; the customer's must stay under 32 s (the agent phone waits that long for our ACK)
    SIP_AGENT_RING_TIMEOUT = float(os.environ.get("SIP_AGENT_RING_TIMEOUT", "30"))
    SIP_CUSTOMER_RING_TIMEOUT = min(float(os.environ.get("SIP_CUSTOMER_RING_TIMEOUT", "30")), 30.0)


class TestConfig(Config):
    TESTING = True
    SQLITE_ANALYZE_SECONDS = 0  # no background thread on the test database; tests call app/sqlite_stats.py
    WTF_CSRF_ENABLED = False
    FAB_PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
