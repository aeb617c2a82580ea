"""The PyTorch side of mudit bench's interleaved protocol (src/bench/python_baseline.h).

A baseline script loads its model and inputs, then calls serve(): it prints {"ready": true} and
answers one command a line on stdin. An operation's name runs it once and is answered with
{"seconds": its time}; "done" is answered with finish()'s dict, and the worker returns. The C++
side alternates its own iterations with these, so both sides see the same machine state.
"""
import json
import sys
import time


def serve(ops, finish):
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "done":
            print(json.dumps(finish()), flush=True)
            return
        if cmd not in ops:
            print(json.dumps({"error": "unknown operation " + repr(cmd)}), flush=True)
            sys.exit(2)
        start = time.perf_counter()
        ops[cmd]()
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)
