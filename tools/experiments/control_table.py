"""Prints control-accuracy rows from `mudit eval --metrics control` results, as a Markdown table.

    control_table.py LABEL=METRICS_JSON:GROUP ...

GROUP is a prompt register of metrics.json's `groups` (professional, amateur, none, or unknown
for songs without a sidecar). Instrument columns appear when the runs used an instrument probe
(INSTRUMENTS=probe.safetensors for the experiment scripts).
"""
import json
import sys

rows = []
for arg in sys.argv[1:]:
    label, rest = arg.split("=", 1)
    path, group = rest.rsplit(":", 1)
    rows.append((label, json.load(open(path))["groups"][group]["control"]))
inst = all("instrument_recall" in c for _, c in rows)
head = "| audio | songs | tempo class | tempo within 8 % | mode (major/minor songs) |"
if inst:
    head += " instruments found | others detected |"
print(head)
print("|---" * (head.count("|") - 1) + "|")
for label, c in rows:
    line = (f'| {label} | {int(c["songs"])} | {c["tempo_class"]:.3f} | {c["tempo_8"]:.3f} | '
            f'{c["mode"]:.3f} ({int(c["key_songs"])}) |')
    if inst:
        line += f' {c["instrument_recall"]:.3f} | {c["instrument_false_positive"]:.3f} |'
    print(line)
