"""``llamapilot log``: see, export and purge the audit log of prompts and suggestions."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from llamapilot.audit.store import AuditLog, AuditRecord, audit_path
from llamapilot.cli import positive_int
from llamapilot.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "log",
        help="see and purge the audit log of prompts and suggestions",
        description="Every completion's prompt, sources, suggestion, tokens with "
        "log-probabilities and timings are logged to a SQLite file you own (mode 0600), "
        "with secret-looking strings redacted. Turn it off with 'audit = false' in the "
        "config file or LLAMAPILOT_AUDIT=0.",
    )
    p.set_defaults(handler=lambda args: _usage(p))
    log_sub = p.add_subparsers(dest="log_command", metavar="SUBCOMMAND", parser_class=type(p))

    ls = log_sub.add_parser("list", help="list the newest logged completions")
    ls.add_argument("-n", type=positive_int, default=20, help="how many (default 20)")
    ls.add_argument("--json", action="store_true", help="print a JSON array of full records")
    ls.set_defaults(handler=run_list)

    show = log_sub.add_parser("show", help="show one logged completion in full")
    show.add_argument("id", type=positive_int, help="record id (from 'llamapilot log list')")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    show.set_defaults(handler=run_show)

    purge = log_sub.add_parser("purge", help="delete every logged completion")
    purge.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(handler=run_purge)

    path = log_sub.add_parser("path", help="print where the audit log is")
    path.set_defaults(handler=run_path)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _location() -> tuple[Path, bool]:
    from llamapilot.config import load_settings

    settings = load_settings()
    return audit_path(settings), settings.audit


def _open_existing() -> AuditLog | None:
    """The log, if its file exists; reading never creates it (audit may be off)."""
    path, enabled = _location()
    audit = AuditLog.existing(path)
    if audit is None:
        state = "nothing logged yet" if enabled else "audit is off"
        print(f"llamapilot: no audit log at {path} ({state})", file=sys.stderr)
    return audit


def _first_line(text: str, width: int) -> str:
    line = text.strip("\n").split("\n", 1)[0]
    more = "\n" in text.strip("\n")
    if len(line) > width:
        return line[: width - 1] + "…"
    return line + (" …" if more else "")


def _local_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def run_list(args: argparse.Namespace) -> int:
    audit = _open_existing()
    records = [] if audit is None else audit.recent(args.n)
    if audit is not None:
        audit.close()
    if args.json:
        json.dump([r.to_dict() for r in records], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if records:
        print(f"{'ID':>6}  {'TIME':19}  {'OUTCOME':8}  {'CONF':>5}  {'WHERE':28}  SUGGESTION")
    for r in records:
        where = f"{r.path or '-'}:{(r.cursor_line or 0) + 1}"
        if len(where) > 28:
            where = "…" + where[-27:]
        conf = "-" if r.confidence is None else f"{r.confidence:.2f}"
        print(
            f"{r.id:>6}  {_local_time(r.created_at):19}  {r.outcome or '-':8}  {conf:>5}  "
            f"{where:28}  {_first_line(r.text, 60)!r}"
        )
    return 0


def _format(r: AuditRecord) -> str:
    out = [
        f"id:          {r.id}",
        f"time:        {_local_time(r.created_at)} ({r.created_at})",
        f"file:        {r.path or '-'} line {(r.cursor_line or 0) + 1} ({r.language or '?'})",
        f"model:       {r.model_name} ({r.model_path})",
        f"sha256:      {r.model_sha256}",
        f"template:    {r.template}",
        f"outcome:     {r.outcome or '-'}",
        f"confidence:  {r.confidence}",
        f"tokens:      {r.n_prompt_tokens} prompt ({r.n_cached_tokens} cached), "
        f"{r.n_predicted} generated, stop: {r.stop_reason}",
        f"timings:     prompt {r.prompt_ms} ms, predict {r.predict_ms} ms, total {r.total_ms} ms",
        f"redacted:    {r.redactions} secret-looking string(s)",
        "",
        "sources:",
    ]
    for s in r.sources:
        out.append(
            f"  {s.get('kind')}: {s.get('path') or '-'} lines {s.get('start_line')}"
            f"-{s.get('end_line')}" + (f" (score {s['score']})" if "score" in s else "")
        )
    out += ["", "--- prompt " + "-" * 60, r.prompt]
    if r.forced_prefix:
        out += ["--- forced prefix (cut from the prompt, reproduced first) ---", r.forced_prefix]
    out += ["--- suggestion " + "-" * 56, r.text]
    if r.raw_text != r.text:
        out += ["--- raw model output " + "-" * 50, r.raw_text]
    out += ["--- tokens (logprob, top alternatives) " + "-" * 32]
    for t in r.tokens:
        alts = ", ".join(f"{a['text']!r} {a['logprob']:.3f}" for a in t["top"][:3])
        out.append(f"  {t['text']!r:24} {t['logprob']:8.3f}   {alts}")
    return "\n".join(out)


def run_show(args: argparse.Namespace) -> int:
    audit = _open_existing()
    record = None if audit is None else audit.get(args.id)
    if audit is not None:
        audit.close()
    if record is None:
        raise InputError(f"no audit record {args.id}", param="id")
    if args.json:
        print(json.dumps(record.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(_format(record))
    return 0


def run_purge(args: argparse.Namespace) -> int:
    audit = _open_existing()
    if audit is None:
        return 0
    with audit:
        n = audit.count()
        if not args.yes:
            if not sys.stdin.isatty():
                raise InputError("pass --yes to purge the audit log without a prompt")
            answer = input(f"Delete {n} logged completion(s) from {audit.path}? [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                print("nothing deleted", file=sys.stderr)
                return 0
        deleted = audit.purge()
    print(f"deleted {deleted} logged completion(s) from {audit.path}")
    return 0


def run_path(args: argparse.Namespace) -> int:
    path, enabled = _location()
    print(path)
    if not enabled:
        print("llamapilot: audit is off (audit = false); nothing is logged", file=sys.stderr)
    return 0
