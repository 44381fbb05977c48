#!/usr/bin/env python3
"""Sorts the reports of a run_tsan_ui.sh log into the kinds that need different answers.

Debian's Qt, glib and ONNX Runtime are not built with ThreadSanitizer, so the ordering their own mutexes give
(Qt's QMutex is a futex TSan cannot see) is invisible: the payload of a queued call or thread-pool task, written
by the poster and read or freed by the receiver, is reported as a race, and so is much of Qt's internals. What
is left after those two kinds is what to read first: reports with an EdgeTune access outside a hand-off.
Usage: tests/sanitizers/triage_tsan.py LOG [--show N]
"""
import collections
import re
import sys

HANDOFF = ("QMetaObject::invokeMethod", "invokeMethod<", "QMetaCallEvent", "QFunctorSlotObject",
           "QRunnable::create", "QThreadPoolPrivate::enqueueTask")


def accesses(report):
    body = report.split("SUMMARY:")[0]
    sections = re.split(r"\n  (?=(?:Read|Write|Previous|Atomic|Mutex|Location|Thread|As if))", body)
    return body, [s for s in sections if re.match(r"(Read|Write|Previous|Atomic)", s)]


def first_frame(section):
    frames = re.findall(r"#\d+ (.*)", section)
    return next((f for f in frames if "libsanitizer" not in f and "libtsan" not in f), "")


def own(frame):
    return bool(frame) and ".so" not in frame.split("(")[-1]


def main():
    log = open(sys.argv[1], errors="replace").read()
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 3
    kinds, candidates = collections.Counter(), []
    for report in re.split(r"WARNING: ThreadSanitizer: ", log)[1:]:
        body, sections = accesses(report)
        if report.startswith("lock-order"):
            kinds["lock-order inversion"] += 1
        elif any(h in body for h in HANDOFF):
            kinds["payload of a Qt queued call or pool task (ordered by Qt's mutex)"] += 1
        elif not any(own(first_frame(s)) for s in sections):
            kinds["inside uninstrumented libraries only"] += 1
        else:
            kinds["EdgeTune access outside a hand-off: read these"] += 1
            candidates.append(report)
    for kind, n in kinds.most_common():
        print(f"{n:6d}  {kind}")
    for report in candidates[:show]:
        print("-" * 100)
        print(report[:3000])


if __name__ == "__main__":
    main()
