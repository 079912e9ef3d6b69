"""The audit log: every prompt and suggestion, logged to a SQLite file the user owns."""

from llamapilot.audit.sink import AuditSink, attach_audit, detach_audit
from llamapilot.audit.store import AuditLog, AuditLogError, AuditRecord, audit_path

__all__ = [
    "AuditLog",
    "AuditLogError",
    "AuditRecord",
    "AuditSink",
    "attach_audit",
    "audit_path",
    "detach_audit",
]
