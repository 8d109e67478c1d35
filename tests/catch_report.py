#!/usr/bin/env python3
# catch_report.py XML STATUS [PREFIX]: reads the report of a Catch2 2.x run
# (`unit-tests -r xml -o XML`, whose exit status was STATUS) and prints it
# the way tests/run.sh prints a shell suite: a `not ok - PREFIXunit: CASE`
# line for each failed test case, with what failed (file:line, the check and
# its expansion, an exception, INFO messages) as `#` lines, then the last
# line `P passed, F failed` counting test cases. A run that ended early (a
# crash: the XML is cut) counts the cases it finished and one failure more,
# so a crash can never read as a pass; so does a failed exit status with no
# failed case. Exits 0.
import html
import re
import sys
import xml.etree.ElementTree as ET

path, status = sys.argv[1], int(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else ""


def text(el):
    return " ".join((el.text or "").split())


def problems(case):
    """The failed checks of a case (and its sections), each once."""
    seen, out, info = set(), [], []
    for el in case.iter():
        if el.tag == "Info":
            info.append(text(el))
            continue
        line = None
        where = f"{el.get('filename', '?')}:{el.get('line', '?')}"
        if el.tag == "Expression" and el.get("success") == "false":
            original = text(el.find("Original")) if el.find("Original") is not None else ""
            expanded = text(el.find("Expanded")) if el.find("Expanded") is not None else ""
            line = f"{where}: {el.get('type', 'CHECK')}( {original} )"
            if expanded and expanded != original:
                line += f" with expansion: {expanded}"
        elif el.tag in ("Exception", "Failure", "FatalErrorCondition"):
            line = f"{where}: {el.tag.lower()}: {text(el)}"
        if line is None:
            continue
        if line not in seen:
            seen.add(line)
            out.extend(f"  {m}" for m in info)
            out.append(line)
        info = []
    return out


try:
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = f.read()
except OSError:
    raw = ""
try:
    root = ET.fromstring(raw)
except (ET.ParseError, ValueError):
    root = None

passed = failed = 0
if root is not None and root.find("OverallResultsCases") is not None:
    for case in root.iter("TestCase"):
        result = case.find("OverallResult")
        if result is not None and result.get("success") == "true":
            passed += 1
            continue
        failed += 1
        print(f"not ok - {prefix}unit: {case.get('name')}")
        for line in problems(case) or ["(no failed check recorded)"]:
            print(f"#   {line}")
    if status != 0 and failed == 0:
        print(f"not ok - {prefix}unit tests: exit status {status} but no failed case")
        failed = 1
else:
    # Cut short: count the finished cases from the text.
    passed = len(re.findall(r'<OverallResult success="true"/>', raw))
    failed = len(re.findall(r'<OverallResult success="false"/>', raw)) + 1
    last = re.findall(r'<TestCase name="([^"]*)"', raw)
    where = f" in or after \"{html.unescape(last[-1])}\"" if last else ""
    print(f"not ok - {prefix}unit tests: the run ended early{where} (exit status {status})")
print(f"{passed} passed, {failed} failed")
