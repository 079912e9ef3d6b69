"""The audit log as a :class:`CompletionService` result sink.

``attach_audit(service, settings)`` opens the log (unless ``settings.audit`` is off) and
appends a sink that records every completion. Front ends that report acceptance get the
record id of a result as ``result.audit_id`` and pass it (or the result) to
:meth:`AuditSink.set_outcome`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from llamapilot.audit.store import AuditLog, AuditLogError
from llamapilot.completion.types import CompletionRequest, CompletionResult

if TYPE_CHECKING:
    from llamapilot.completion.service import CompletionService
    from llamapilot.config import Settings

log = logging.getLogger(__name__)


class AuditSink:
    """Records each finished completion in an :class:`AuditLog`.

    A failed write (disk full, file removed) is logged as a warning and does not fail the
    completion: the user still gets the suggestion.
    """

    def __init__(self, audit: AuditLog) -> None:
        self.log = audit
        self._lock = threading.Lock()
        self.failures = 0

    def __call__(self, request: CompletionRequest, result: CompletionResult) -> None:
        try:
            rid = self.log.record(request, result)
        except AuditLogError as exc:
            with self._lock:
                self.failures += 1
            log.warning("%s", exc)
            return
        result.audit_id = rid

    @staticmethod
    def record_id(result: CompletionResult) -> int | None:
        """The audit record id of ``result`` (None if it was not recorded)."""
        return result.audit_id

    def set_outcome(self, result_or_id: CompletionResult | int, outcome: str | None) -> bool:
        """Mark a result (or record id) ``"accepted"`` or ``"rejected"``."""
        rid = result_or_id if isinstance(result_or_id, int) else self.record_id(result_or_id)
        return rid is not None and self.log.set_outcome(rid, outcome)

    def close(self) -> None:
        self.log.close()


def attach_audit(service: CompletionService, settings: Settings | None = None) -> AuditSink | None:
    """Open the audit log of ``settings`` (default: the service's) and record every
    completion of ``service`` in it. Returns the sink, or None when audit is off."""
    audit = AuditLog.open(settings if settings is not None else service.settings)
    if audit is None:
        return None
    sink = AuditSink(audit)
    service.sinks.append(sink)
    return sink


def detach_audit(service: CompletionService, sink: AuditSink) -> None:
    """Stop recording ``service``'s completions in ``sink`` and close its log."""
    if sink in service.sinks:
        service.sinks.remove(sink)
    sink.close()
