#!/usr/bin/env python3
"""wrap_envelope.py KIND NAME < LOG > WRAPPED

Wraps the lines of a real PostgreSQL log the way a platform does
(pg-log-formats.md §11), so that pgconn-parse can be checked to read the
envelope exactly as it reads the plain log:

  cnpg NAME        csvlog records -> CloudNativePG JSON lines ("logger":
                   "postgres", the columns by name under "record",
                   "logging_pod": NAME), with lines of other loggers and of
                   the operator between them
  cnpg-swapped NAME  the same, with every two adjacent records of one
                   session swapped (out of order, within the settle window)
  gcp NAME         stderr lines with the Debian prefix `%m [%p] %q%u@%d ` ->
                   Cloud Logging entries of Cloud SQL: textPayload
                   "[pid]: [l-1] db=D,user=U SEVERITY:  …" (l counted per
                   backend, as %l), continuation lines as entries of their
                   own starting with a TAB, timestamp from %m,
                   resource.labels.database_id NAME
  journald-json NAME   stderr lines -> `journalctl -o json` entries of the
                   stdout transport (MESSAGE the whole line, _PID the
                   postmaster's, _HOSTNAME NAME)
  journald-syslog NAME stderr lines with %p -> entries of the syslog
                   transport: MESSAGE "[N-1] line", continuation lines as
                   pieces "[N-2] \\t…", _PID the backend's
  short-iso NAME   the same as `journalctl -o short-iso` text:
                   "2024-03-01T10:00:03+0000 NAME postgres[pid]: [N-1] line"

  azure NAME       stderr lines -> Azure flexible server PostgreSQLLogs
                   records, one a line (a storage PT1H.json blob): a report
                   and its continuation lines in one properties.message,
                   processId, timestamp (ms), LogicalServerName NAME, and
                   PostgreSQLFlexPGBouncer / other categories' records
                   between them
  azure-eventhub NAME  the same records in Event Hub batches of 5,
                   {"records":[…]}, without LogicalServerName: the server
                   is resourceId's last element (NAME in upper case)
  cloudwatch-tail NAME  `aws logs tail` detailed text: "TIME NAME line"
  cloudwatch-subscription NAME  decoded subscription payloads of 7 events
                   each (logStream NAME), back to back, with a
                   CONTROL_MESSAGE first
  cloudwatch-filter NAME  one pretty-printed filter-log-events document
  heroku-logs NAME `heroku logs` text (NAME an attachment: GREEN): "TIME app[postgres.PID]: [NAME] [N-1] line"
  heroku-drain NAME  an HTTPS drain body: octet-counted RFC 5424 frames,
                   "- [NAME] [N-M] line", continuation lines as pieces,
                   heroku-postgres metrics frames between them
  rfc5424 NAME     rsyslog forwarding RFC 5424 over TCP: octet-counted
                   frames, HOSTNAME NAME, PROCID the pid, rsyslog's origin
                   structured data, "[N-M] line"
  neon NAME        Neon's frames: SD [neon … endpoint_id="NAME"], no counts

stderr lines need %m or %t (UTC) at the start for the times; the postmaster's
pid is the first pid of the log.
"""
import csv
import datetime
import json
import re
import sys

COLUMNS = ["log_time", "user_name", "database_name", "process_id", "connection_from",
           "session_id", "session_line_num", "command_tag", "session_start_time",
           "virtual_transaction_id", "transaction_id", "error_severity", "sql_state_code",
           "message", "detail", "hint", "internal_query", "internal_query_pos", "context",
           "query", "query_pos", "location", "application_name", "backend_type", "leader_pid",
           "query_id"]

TIME = re.compile(r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{3}))? UTC")
PID = re.compile(r"\[(\d+)\]")
DEBIAN = re.compile(r"^(\S+ \S+\.\d{3} UTC) \[(\d+)\] (?:(\S*)@(\S*) )?([A-Z0-9]+):  (.*)$", re.S)


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def parse_time(line):
    """(datetime, ms) of a line's %m, or None."""
    m = TIME.match(line)
    if not m:
        return None
    d = datetime.datetime.strptime(m.group(1) + " " + m.group(2), "%Y-%m-%d %H:%M:%S")
    return d.replace(tzinfo=datetime.timezone.utc, microsecond=int(m.group(3) or 0) * 1000)


def read_lines():
    data = sys.stdin.buffer.read().decode("utf-8", "surrogateescape")
    lines = data.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def out(text):
    sys.stdout.buffer.write(text.encode("utf-8", "surrogateescape") + b"\n")


def cnpg(name, swapped):
    rows = list(csv.reader(sys.stdin, strict=True))
    recs = []
    for row in rows:
        rec = {COLUMNS[i]: v for i, v in enumerate(row) if i < len(COLUMNS)}
        t = parse_time(row[0])
        recs.append((t.timestamp() if t else 0.0, rec))
    if swapped:
        i = 0
        while i + 1 < len(recs):
            a, b = recs[i][1], recs[i + 1][1]
            # Not line 1 after a line 2 that is no connection's set-up:
            # that line 2 would start the count (the reader's rule).
            first_late = (a.get("session_line_num") == "1" and
                          not b.get("message", "").startswith("connection "))
            if a.get("session_id") and a.get("session_id") == b.get("session_id") and not first_late:
                recs[i], recs[i + 1] = recs[i + 1], recs[i]
                i += 2
            else:
                i += 1
    out(dumps({"level": "info", "ts": "2026-01-01T00:00:00Z",
               "msg": "Starting CloudNativePG Instance Manager", "logging_pod": name}))
    for n, (ts, rec) in enumerate(recs):
        if n % 7 == 3:
            out(dumps({"level": "info", "ts": ts, "logger": "wal-archive",
                       "msg": "Archived WAL file", "logging_pod": name,
                       "walName": "pg_wal/000000010000000000000003"}))
        out(dumps({"level": "info", "ts": ts, "logger": "postgres", "msg": "record",
                   "logging_pod": name, "record": rec}))


def gcp(name):
    counts = {}
    last = None
    n = 0
    for line in read_lines():
        n += 1
        entry = {"insertId": "s=%d" % n,
                 "logName": "projects/P/logs/cloudsql.googleapis.com%2Fpostgres.log",
                 "resource": {"labels": {"database_id": name, "project_id": "P",
                                         "region": "europe-west1"},
                              "type": "cloudsql_database"},
                 "severity": "INFO"}
        m = DEBIAN.match(line)
        if m:
            t = parse_time(line)
            last = t
            pid, user, db, sev, msg = m.group(2), m.group(3), m.group(4), m.group(5), m.group(6)
            if msg.startswith("connection received: "):
                counts[pid] = 0  # a new process: %l starts again
            counts[pid] = counts.get(pid, 0) + 1
            entry["textPayload"] = "[%s]: [%d-1] db=%s,user=%s %s:  %s" % (
                pid, counts[pid], db or "", user or "", sev, msg)
        else:
            entry["textPayload"] = line
        if last is not None:
            entry["timestamp"] = last.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
        out(dumps(entry))


def journald(name, transport, text):
    postmaster = None
    seq = {}
    last = None  # (time, pid, n, pieces) of the line before
    for line in read_lines():
        t = parse_time(line)
        m = PID.search(line) if t else None
        pid = m.group(1) if m else None
        if postmaster is None and pid:
            postmaster = pid
        if t is None and last is not None:  # a continuation line: the next piece
            t, pid, n, piece = last
            piece += 1
            last = (t, pid, n, piece)
        else:
            if t is None:
                t = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
            seq[pid] = seq.get(pid, 0) + 1
            n, piece = seq[pid], 1
            last = (t, pid, n, piece)
        us = str(int(t.timestamp() * 1000000))
        if transport == "stdout":
            message, entry_pid = line, postmaster or "1"
        else:
            message, entry_pid = "[%d-%d] %s" % (n, piece, line), pid or "1"
        if text:
            out("%s %s postgres[%s]: %s" % (t.strftime("%Y-%m-%dT%H:%M:%S+0000"), name, entry_pid, message))
            continue
        entry = {"__CURSOR": "s=1;i=%x" % len(seq), "__REALTIME_TIMESTAMP": us,
                 "_TRANSPORT": transport, "_PID": entry_pid, "_HOSTNAME": name,
                 "SYSLOG_IDENTIFIER": "postgres", "_COMM": "postgres"}
        try:
            message.encode("utf-8")
            entry["MESSAGE"] = message
        except UnicodeEncodeError:  # journald: not UTF-8 -> an array of bytes
            entry["MESSAGE"] = list(message.encode("utf-8", "surrogateescape"))
        out(dumps(entry))


def reports(lines):
    """(time, pid, n, [lines]) per report: a line with a time and its
    continuation lines; n counts the reports of each pid (syslog's [N-…])."""
    seq = {}
    out = []
    for line in lines:
        t = parse_time(line)
        if t is None and out:
            out[-1][3].append(line)
            continue
        m = PID.search(line) if t else None
        pid = m.group(1) if m else "1"
        seq[pid] = seq.get(pid, 0) + 1
        out.append((t or datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), pid, seq[pid], [line]))
    return out


def iso_ms(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def epoch_ms(t):
    return int(round(t.timestamp() * 1000))


def azure(name, hub):
    rid = "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/" + name.upper()
    recs = []
    for i, (t, pid, n, lines) in enumerate(reports(read_lines())):
        rec = {"category": "PostgreSQLLogs", "operationName": "LogEvent",
               "properties": {"timestamp": t.strftime("%Y-%m-%d %H:%M:%S.") + "%03d UTC" % (t.microsecond // 1000),
                              "processId": int(pid), "errorLevel": "LOG", "message": "\n".join(lines)},
               "resourceId": rid, "time": iso_ms(t)}
        if not hub:
            rec["LogicalServerName"] = name
        recs.append(rec)
        if i % 9 == 4:
            recs.append({"category": "PostgreSQLFlexPGBouncer", "operationName": "LogEvent", "resourceId": rid,
                         "log": t.strftime("%Y-%m-%d %H:%M:%S.000 UTC") + " [1] LOG C-0x55fdcb116670: db/u@10.0.0.9:41000 login attempt",
                         "time": iso_ms(t)})
            recs.append({"category": "PostgreSQLFlexSessions", "operationName": "LogEvent", "resourceId": rid,
                         "properties": {"message": lines[0]}, "time": iso_ms(t)})
    if hub:
        for i in range(0, len(recs), 5):
            out(dumps({"records": recs[i:i + 5]}))
    else:
        for r in recs:
            out(json.dumps(r, separators=(", ", ": "), ensure_ascii=False))


def cloudwatch(name, shape):
    events = []
    last = None
    for line in read_lines():
        t = parse_time(line) or last or datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        last = t
        events.append((t, line))
    if shape == "tail":
        for t, line in events:
            out("%s %s %s" % (t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"), name, line))
        return
    evs = [{"timestamp": epoch_ms(t), "message": line} for t, line in events]
    if shape == "filter":
        for i, e in enumerate(evs):
            e.update({"logStreamName": name, "ingestionTime": e["timestamp"] + 300, "eventId": str(i)})
        sys.stdout.buffer.write(json.dumps({"events": evs, "searchedLogStreams": [{"logStreamName": name}]},
                                           indent=4, ensure_ascii=False).encode("utf-8", "surrogateescape") + b"\n")
        return
    text = dumps({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                  "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 0, "message": "CWL CONTROL MESSAGE"}]})
    for i in range(0, len(evs), 7):
        batch = [dict(e, id=str(i + j)) for j, e in enumerate(evs[i:i + 7])]
        text += dumps({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/rds/instance/x/postgresql",
                       "logStream": name, "subscriptionFilters": ["pgconn"], "logEvents": batch})
    out(text)


def framed(name, kind):
    """Heroku and RFC 5424 frames: one piece per line of a report."""
    for t, pid, n, lines in reports(read_lines()):
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        for m, line in enumerate(lines, 1):
            if kind == "heroku-logs":
                out("%s app[postgres.%s]: [%s] [%d-%d] %s" % (t.strftime("%Y-%m-%dT%H:%M:%S+00:00"), pid, name, n, m, line))
                continue
            if kind == "heroku-drain":
                f = "<134>1 %s host app postgres.%s - [%s] [%d-%d] %s\n" % (stamp, pid, name, n, m, line)
            elif kind == "neon":
                f = '<134>1 %s vm-compute-x postgres %s - [neon project_id="p-1" endpoint_id="%s"]  [%d-%d] %s\n' % (
                    stamp, pid, name, n, m, line)
            else:
                f = '<134>1 %s %s postgres %s - [origin software="rsyslogd" x-info="https://www.rsyslog.com \\"8\\" \\]"]  [%d-%d] %s\n' % (
                    stamp, name, pid, n, m, line)
            b = f.encode("utf-8", "surrogateescape")
            if kind == "neon":
                sys.stdout.buffer.write(b)
            else:
                sys.stdout.buffer.write(b"%d " % len(b) + b)
        if kind == "heroku-drain" and n % 5 == 1:
            f = ("<134>1 %s host app heroku-postgres - source=%s addon=postgresql-x sample#active-connections=3\n"
                 % (stamp, name)).encode()
            sys.stdout.buffer.write(b"%d " % len(f) + f)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, name = sys.argv[1], sys.argv[2]
    if kind in ("cnpg", "cnpg-swapped"):
        cnpg(name, kind == "cnpg-swapped")
    elif kind == "gcp":
        gcp(name)
    elif kind == "journald-json":
        journald(name, "stdout", False)
    elif kind == "journald-syslog":
        journald(name, "syslog", False)
    elif kind == "short-iso":
        journald(name, "syslog", True)
    elif kind in ("azure", "azure-eventhub"):
        azure(name, kind == "azure-eventhub")
    elif kind.startswith("cloudwatch-"):
        cloudwatch(name, kind[len("cloudwatch-"):])
    elif kind in ("heroku-logs", "heroku-drain", "rfc5424", "neon"):
        framed(name, kind)
    else:
        sys.exit("wrap_envelope.py: unknown kind %r" % kind)


if __name__ == "__main__":
    main()
