"""One Settings object, read from the environment (and `.env`)."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEMO_SECRET_KEY = "voltdesk-demo-secret-key-do-not-use-in-production"
ROOT = Path(__file__).resolve().parent.parent


class WebSettings(BaseSettings):
    """What rxconfig.py needs too (CORS), readable without the secrets Settings insists on."""
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    public_url: str = "http://localhost:3000"
    # Origins allowed to call the API and open the websocket with credentials (comma-separated).
    # Unset: only the app's own origin, from PUBLIC_URL.
    cors_origins: str = ""

    @property
    def allowed_origins(self) -> list[str]:
        listed = [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]
        return listed or [origin_of(self.public_url)]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Settings(WebSettings):
    demo_mode: bool = False
    secret_key: str = DEMO_SECRET_KEY
    database_url: str | None = None
    # The role that owns the tables and runs migrations; unset: DATABASE_URL's. The application's own role
    # (DATABASE_URL) should own nothing and must not be a superuser: row-level security (core/rls.py).
    database_owner_url: str | None = None
    # Processes without a user (OCPP server, worker, CLI): a role with BYPASSRLS that owns nothing (core/rls.py).
    # Unset: DATABASE_URL in system scope, which works except for the OCPP server's COPY writes.
    database_system_url: str | None = None
    data_dir: Path = ROOT / ".data"
    redis_url: str | None = None

    jwt_audience: str = "voltdesk"
    jwt_ttl_minutes: int = 8 * 60
    bcrypt_rounds: int = 12
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    # Failed logins from one client address, over every account, before it is locked out for
    # LOGIN_LOCKOUT_SECONDS (password spraying). The address is the peer's, or behind TRUSTED_PROXIES the
    # one they forward (core/net.py).
    login_ip_max_failures: int = 20
    trusted_proxies: str = ""
    # Links mailed to users: an invitation (activation) link and a password-reset link stay valid this long.
    invitation_ttl_hours: int = 24
    password_reset_ttl_minutes: int = 60

    web_port: int = 3000

    ocpp_host: str = "0.0.0.0"
    ocpp_port: int = 9000
    ocpp_tls_cert: Path | None = None
    ocpp_tls_key: Path | None = None
    ocpp_heartbeat_interval: int = 300
    ocpp_offline_grace_seconds: int = 120
    ocpp_max_frame_bytes: int = 64 * 1024
    ocpp_command_timeout_seconds: float = 30.0
    # New unknown-charger records one address may open per minute (attempts on recorded ones still count).
    ocpp_unknown_per_address_per_minute: int = 10

    smtp_url: str | None = None
    mail_from: str = "billing@voltdesk.local"
    outbox_dir: Path = ROOT / "outbox"
    # Uploaded files (organization logos) live here; logo uploads are refused above the size limit.
    upload_dir: Path = ROOT / "uploads"
    logo_max_bytes: int = 1024 * 1024
    billing_grace_minutes: int = 60
    billing_worker_interval_seconds: int = 300
    # The worker sends queued password-reset mails this often (the web app also sends right after answering).
    mail_worker_interval_seconds: int = 30
    map_tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    # Security extension (issue 13): the CSMS's own CA signs charger certificates (SignCertificate). Its key
    # comes from a file named here, never from the repository; without both files nothing is signed.
    csms_ca_cert: Path | None = None
    csms_ca_key: Path | None = None
    csms_ca_key_password: str | None = None
    charger_cert_days: int = 365
    # A charger certificate this close to expiry shows on the charger page with a renewal button.
    charger_cert_renew_days: int = 30
    # Voltdesk's own file endpoint for chargers (firmware downloads; log and diagnostics uploads), on its own
    # port; FILE_ENDPOINT_URL is the address chargers reach it at.
    file_endpoint_port: int = 8731
    file_endpoint_url: str = "http://127.0.0.1:8731"
    charger_upload_max_bytes: int = 20 * 1024 * 1024

    # Notifications (services/notifications/): how often the worker evaluates alert rules and sends queued
    # notifications.
    notifications_interval_seconds: int = 15
    # FCM HTTP v1 base URL (core/push.py); the demo and tests point it at demo/push_standins.py.
    fcm_endpoint: str = "https://fcm.googleapis.com"
    # Web Push: our VAPID private key (base64url, raw 32 bytes or DER) and the contact the push services see.
    vapid_private_key: str = ""
    vapid_subject: str = "mailto:ops@voltdesk.local"
    # Web Push endpoints must be https; this one http base URL is accepted too (the local stand-in).
    webpush_insecure_base: str = ""
    # A composed message to more recipients than this needs an explicit confirmation.
    broadcast_confirm_above: int = 1000

    # The OEM tier (issue 15): API calls per minute for a client whose usage limits leave it empty, and how
    # long the event stream keeps events for Last-Event-ID resumption.
    api_calls_per_minute: int = 600
    event_retention_minutes: int = 60

    # Payments (issue 10). Gateway credentials are encrypted with this Fernet key (32 url-safe base64 bytes);
    # unset, a key is derived from SECRET_KEY.
    payments_credentials_key: str | None = None
    # A session's hold (wallet) or pre-authorization (card) is the tariff's price for this much energy and time.
    payments_hold_kwh: int = 30
    payments_hold_minutes: int = 120
    # The worker takes session payments and checks running wallet sessions this often.
    payments_worker_interval_seconds: float = 1.0
    payments_gateway_timeout_seconds: float = 10.0
    # Prefixes our payment references (the idempotency keys every gateway call carries); unique per deployment.
    payments_reference_prefix: str = "VD"
    # A gateway's circuit opens after this many failed calls in a row and stays open this long.
    payments_circuit_failures: int = 5
    payments_circuit_open_seconds: int = 30
    # Manual payments and refunds above these amounts (in the payment's currency) need a second user's approval.
    payments_manual_approval_above: str = "1000"
    payments_refund_approval_above: str = "1000"
    # Where the gateways' rate limits are counted, shared by every process (the `limits` library's storage URL).
    payments_rate_limit_storage: str = "redis://127.0.0.1:6379/1"
    # How long an over-limit call waits for its turn before it fails over to the next gateway (or is retried).
    payments_rate_limit_wait_seconds: float = 2.0

    # Grid monitor (services/grid): where each source is read, and how often. The demo points them at the
    # stand-in (demo/grid_standin.py) or plays the recorded day (GRID_REPLAY_SPEED recorded seconds per second).
    grid_bmrs_url: str = "https://data.elexon.co.uk"
    grid_entsoe_url: str = "https://web-api.tp.entsoe.eu/api"
    grid_ceb_url: str = "https://cebcare.ceb.lk"
    grid_replay_speed: float = 1.0
    grid_replay_anchor: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    grid_poll_seconds: int = 15
    grid_retention_days: int = 30
    # OCPP processes (branch ocpp18b): each renews its liveness row this often; a row older than the second
    # belongs to a dead process, whose chargers go Offline. The frame log keeps this many days.
    ocpp_process_renew_seconds: float = 3.0
    ocpp_process_dead_after_seconds: float = 9.0
    ocpp_frame_log_days: int = 30

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if not self.demo_mode:
            if self.secret_key == DEMO_SECRET_KEY:
                raise ValueError(
                    "SECRET_KEY is the demo key. Set SECRET_KEY to a long random value "
                    "(or DEMO_MODE=1 for a local demo)."
                )
            if len(self.secret_key) < 32:
                raise ValueError("SECRET_KEY must be at least 32 characters.")
        for part in (p.strip() for p in self.trusted_proxies.split(",")):
            if part:
                try:
                    ip_network(part, strict=False)
                except ValueError as exc:
                    raise ValueError(f"TRUSTED_PROXIES: {exc} (for example 10.0.0.0/8).") from None
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
