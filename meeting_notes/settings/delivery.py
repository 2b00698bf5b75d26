"""Settings of orchestration (Prefect, the inbox) and CRM delivery (Salesforce, HubSpot, webhook)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field


class OrchestrationSettings(BaseModel):
    """Prefect flows, the watched inbox and the deployments (``flows/``, ``meeting-notes watch|serve``)."""

    inbox_dir: Path = Field(
        Path("inbox"),
        description="Inbox root: files are dropped into <inbox_dir>/inbox and moved through "
        "processing/ to done/ or failed/.",
    )
    out_dir: Path = Field(Path("out"), description="Where the watcher and the flows write meeting folders.")
    poll_interval_s: float = Field(5.0, description="How often `watch` scans the inbox.")
    stable_seconds: float = Field(
        10.0, description="A file is picked up once its size and mtime did not change for this long."
    )
    claim_timeout_s: float = Field(
        6 * 3600.0,
        description="A claimed file whose run sent no heartbeat for this long goes back to the inbox.",
    )
    lock_lease_s: float = Field(
        300.0,
        description="Length of the leases that keep two runs out of one meeting folder and one stage "
        "task; renewed every third of it while the holder lives, so a killed worker (SIGKILL, a lost "
        "container or host) frees its meeting after at most this long.",
    )
    queue_timeout_s: float = Field(
        24 * 3600.0,
        description="Lease of a claim whose run has not started yet (waiting in a work-pool queue); "
        "after it the file goes back to the inbox, and the late run, if it ever starts, stops "
        "without touching it.",
    )
    gpu_limit_name: str = Field(
        "gpu", description="Global concurrency limit held around model inference; '' disables it."
    )
    gpu_limit_slots: int = Field(1, description="Slots of that limit when `serve`/`watch` create it.")
    nightly_cron: str = Field("0 2 * * *", description="Schedule of the nightly batch under `serve`.")
    sweep_interval_s: float = Field(300.0, description="Schedule of the inbox sweep under `serve`.")
    retention_days: int = Field(
        0,
        ge=0,
        description="The nightly `retention` flow forgets meetings processed more than this many days ago "
        "(`meeting-notes forget` of each: folder, inbox copy, LLM cache entries, ledger rows, Prefect runs "
        "and artifacts; CRM records stay); 0 keeps them forever.",
    )


class SalesforceSettings(BaseModel):
    """Salesforce target of ``meeting-notes crm`` (REST API, composite upserts by external id)."""

    instance_url: str | None = Field(
        None,
        description="https://<MyDomain>.my.salesforce.com; None: the instance_url returned by the JWT bearer flow.",
    )
    api_version: str = Field("v62.0", description="REST API version in the request paths (/services/data/<version>/...).")
    activity_object: Literal["auto", "Event", "Task"] = Field(
        "auto",
        description="The meeting's record: 'Event' (start/end), 'Task' (TaskSubtype=Call, ActivityDate + "
        "CallDurationInSeconds) or 'auto' (Event when the meeting's start time is known, else Task).",
    )
    event_external_id_field: str = Field(
        "Meeting_Notes_Key__c", description="External-id field on Activity (Event) that holds the meeting's key."
    )
    task_external_id_field: str = Field(
        "Meeting_Notes_Key__c", description="External-id field on Activity (Task) that holds the call's and next steps' keys."
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="Rename or drop mapped fields: {standard API name: your API name, or '' to leave it out}, "
        "e.g. {\"Description\": \"Call_Notes__c\"}.",
    )
    description_limit: int = Field(32000, description="Characters of Description (the notes); longer is cut with '…(truncated)'.")
    subject_limit: int = Field(255, description="Characters of Subject.")
    user_ids: dict[str, str] = Field(
        default_factory=dict,
        description="Next-step owner names (as said in the meeting) -> Salesforce User ids (005...), for task OwnerId.",
    )
    access_token_env: str = Field("SALESFORCE_ACCESS_TOKEN", description="Environment variable holding an OAuth access token.")
    access_token_file: Path | None = Field(None, description="File holding an OAuth access token (used when the variable is unset).")
    jwt_client_id: str | None = Field(None, description="JWT bearer flow: the connected app's consumer key.")
    jwt_username: str | None = Field(None, description="JWT bearer flow: the Salesforce username the token is issued for.")
    jwt_private_key_file: Path | None = Field(
        None, description="JWT bearer flow: PEM RSA private key whose certificate is on the connected app."
    )
    login_url: str = Field(
        "https://login.salesforce.com", description="JWT bearer flow: token endpoint host (https://test.salesforce.com for sandboxes)."
    )


class HubSpotSettings(BaseModel):
    """HubSpot target of ``meeting-notes crm`` (CRM v3 batch upsert by a unique property, v4 associations)."""

    base_url: str = Field("https://api.hubapi.com", description="API host.")
    id_property: str = Field(
        "meeting_notes_key",
        description="Custom property with unique values (hasUniqueValue) on meetings and tasks that holds the keys.",
    )
    field_map: dict[str, str] = Field(
        default_factory=dict,
        description="Rename or drop mapped properties: {standard name: your name, or '' to leave it out}.",
    )
    body_limit: int = Field(65536, description="Characters of hs_meeting_body / hs_task_body; longer is cut with '…(truncated)'.")
    title_limit: int = Field(255, description="Characters of hs_meeting_title / hs_task_subject.")
    owner_ids: dict[str, str] = Field(
        default_factory=dict, description="Next-step owner names -> HubSpot owner ids, for the task's hubspot_owner_id."
    )
    access_token_env: str = Field("HUBSPOT_ACCESS_TOKEN", description="Environment variable holding a private-app or OAuth access token.")
    access_token_file: Path | None = Field(None, description="File holding the access token (used when the variable is unset).")


class WebhookSettings(BaseModel):
    """Generic webhook target: a signed JSON POST of the notes."""

    url: str | None = Field(
        None,
        description="Where the JSON is POSTed; None: the webhook target is not configured. Its path and query are "
        "treated as a secret (masked in errors, the ledger and logs).",
    )
    secret_env: str = Field("MEETING_NOTES_WEBHOOK_SECRET", description="Environment variable holding the HMAC-SHA256 key.")
    secret_file: Path | None = Field(None, description="File holding the HMAC key (used when the variable is unset).")
    signature_header: str = Field(
        "X-Meeting-Notes-Signature",
        description="Header carrying 't=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.\" + body>' (signed afresh per attempt; "
        "receivers refuse a t more than 300 s from their clock).",
    )
    delivery_header: str = Field(
        "X-Meeting-Notes-Delivery",
        description="Header carrying the idempotency key: a UUID of the meeting and the plan hash (the same for a retry "
        "or re-send of the same body, new for a corrected one).",
    )


class CRMSettings(BaseModel):
    """Delivery of the notes to Salesforce, HubSpot or a webhook (``meeting-notes crm``, docs/crm.md)."""

    auto_push: bool = Field(
        False, description="Send after every processed meeting without review (to auto_push_targets); off: preview and approve first."
    )
    auto_push_targets: list[str] = Field(
        default_factory=list, description="Targets ('salesforce', 'hubspot', 'webhook') that auto_push sends to."
    )
    ledger_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the delivery ledger, e.g. postgresql+psycopg://user@host/db for workers "
        "on several machines; None: SQLite file <meetings folder>/.crm-ledger.sqlite.",
    )
    report_base_url: str | None = Field(
        None,
        description="Base URL the meeting folders are served under, for the link to the meeting's report.html; "
        "None: no link (the local path of the report is never sent).",
    )
    removed_records: Literal["close", "delete"] = Field(
        "close",
        description="What a re-push does with the records this meeting created earlier that are no longer in the "
        "notes (a deleted next step): 'close' (task status Completed) or 'delete' (Salesforce delete, HubSpot archive).",
    )
    timeout_s: float = Field(30.0, description="Per-request timeout in seconds.")
    max_retries: int = Field(4, description="Retries of 429, 5xx, timeouts and connection errors per request.")
    backoff_base_s: float = Field(1.0, description="First retry delay; doubles each retry, with jitter.")
    backoff_max_s: float = Field(60.0, description="Longest delay between retries without Retry-After.")
    retry_after_max_s: float = Field(
        300.0, description="Longest Retry-After honoured; a longer one ends the push as failed (retried later by crm-retry)."
    )
    retry_max_attempts: int = Field(10, description="crm-retry stops re-sending a delivery after this many pushes.")
    salesforce: SalesforceSettings = SalesforceSettings()
    hubspot: HubSpotSettings = HubSpotSettings()
    webhook: WebhookSettings = WebhookSettings()
