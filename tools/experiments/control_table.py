"""Prints control-accuracy rows from `mudit eval --metrics control` results, as a Markdown table.

    control_table.py LABEL=METRICS_JSON:GROUP ...

GROUP is a prompt register of metrics.json's `groups` (professional, amateur, none, or unknown
for songs without a sidecar).
"""
import json
import sys

print("| audio | songs | tempo class | tempo within 8 % | mode (major/minor songs) |")
print("|---|---|---|---|---|")
for arg in sys.argv[1:]:
    label, rest = arg.split("=", 1)
    path, group = rest.rsplit(":", 1)
    c = json.load(open(path))["groups"][group]["control"]
    print(f'| {label} | {int(c["songs"])} | {c["tempo_class"]:.3f} | {c["tempo_8"]:.3f} | '
          f'{c["mode"]:.3f} ({int(c["key_songs"])}) |')
