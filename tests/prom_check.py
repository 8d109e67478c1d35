#!/usr/bin/env python3
"""Checks a Prometheus text exposition (format 0.0.4) for what promtool
check metrics misses (../shared/metrics.md §1.6, §6.6): one HELP and TYPE
per metric, before its samples, metrics not interleaved, no series twice
(labels in any order), no timestamps, a final newline, counters named
*_total, label values with only the three escapes, and histograms whose
buckets rise with `le`, never decrease, and end in +Inf equal to _count.

Usage: prom_check.py FILE...   Prints one line per problem; exit 1 if any.
"""
import math
import re
import sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def labels_of(text, where, problems):
    out = []
    pos = 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            problems.append(f'{where}: bad label set {text!r}')
            return None
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        problems.append(f'{where}: a label twice in {text!r}')
    return out


def family(name, types):
    for suffix in ('_bucket', '_sum', '_count'):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) == 'histogram':
            return base
    return name


def check(path):
    problems = []
    data = open(path, 'rb').read()
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        return [f'{path}: not UTF-8: {e}']
    if not text.endswith('\n'):
        problems.append(f'{path}: no final newline')
    helps, types, done = {}, {}, set()
    current = None
    seen = set()
    hist = {}  # (family, labels without le) -> {'buckets': [(le, v)], 'count': v}
    for no, line in enumerate(text.split('\n')[:-1], 1):
        where = f'{path}:{no}'
        if line.startswith('# HELP ') or line.startswith('# TYPE '):
            kind, rest = line[2:6], line[7:]
            name = rest.split(' ', 1)[0]
            table = helps if kind == 'HELP' else types
            if name in table:
                problems.append(f'{where}: second {kind} for {name}')
            table[name] = rest[len(name) + 1:]
            if name != current:
                if name in done:
                    problems.append(f'{where}: {name} interleaved with another metric')
                if current is not None:
                    done.add(current)
                current = name
            continue
        if line.startswith('#') or line == '':
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(f'{where}: not a sample without timestamp: {line!r}')
            continue
        name, value = m.group(1), m.group(4)
        fam = family(name, types)
        if fam != current:
            problems.append(f'{where}: sample of {fam} outside its HELP/TYPE group')
        if fam not in helps or fam not in types:
            problems.append(f'{where}: {fam} has no HELP or TYPE')
        if types.get(fam) == 'counter' and not fam.endswith('_total'):
            problems.append(f'{where}: counter {fam} does not end in _total')
        labels = labels_of(m.group(3) or '', where, problems)
        if labels is None:
            continue
        key = (name, tuple(sorted((n, v) for n, v in labels if v != '')))
        if key in seen:
            problems.append(f'{where}: series twice: {line!r}')
        seen.add(key)
        try:
            v = float(value)
        except ValueError:
            problems.append(f'{where}: bad value {value!r}')
            continue
        if types.get(fam) == 'histogram':
            rest = tuple(sorted((n, x) for n, x in labels if n != 'le'))
            h = hist.setdefault((fam, rest), {'buckets': [], 'count': None, 'sum': None})
            if name.endswith('_bucket'):
                le = dict(labels).get('le')
                if le is None:
                    problems.append(f'{where}: bucket without le')
                else:
                    h['buckets'].append((float(le), v))
            elif name.endswith('_count'):
                h['count'] = v
            else:
                h['sum'] = v
    for (fam, rest), h in hist.items():
        where = f'{path}: {fam}{dict(rest)}'
        b = h['buckets']
        if not b or not math.isinf(b[-1][0]):
            problems.append(f'{where}: no le="+Inf" bucket last')
        for (le1, v1), (le2, v2) in zip(b, b[1:]):
            if not le1 < le2:
                problems.append(f'{where}: le {le1} then {le2}')
            if v2 < v1:
                problems.append(f'{where}: bucket counts fall from {v1} to {v2}')
        if h['count'] is None or h['sum'] is None:
            problems.append(f'{where}: no _count or _sum')
        elif b and b[-1][1] != h['count']:
            problems.append(f'{where}: +Inf bucket {b[-1][1]} != _count {h["count"]}')
    return problems


def main():
    problems = []
    for path in sys.argv[1:]:
        problems += check(path)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
