"""Provides a writer process for the crash test: appends numbered points until it is killed.

    python -m tests.engine.history.crash_writer FILE KEYS FLUSH_INTERVAL

Each key gets the values 0, 1, 2... in order, continuing from the last one in the file, with
the wall-clock time as timestamp; it prints ``ready`` once it writes.
"""

from __future__ import annotations

import sys
import time

from engine.history import HistoryStore


def main() -> None:
    path, keys, flush = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    store = HistoryStore(path=path, flush_interval=flush, chunk_points=40)
    names = [f"crash/{k}" for k in range(keys)]
    last = store.recent(names[0], 1)
    n = int(last[0].value) + 1 if last else 0
    print("ready", flush=True)
    while True:
        now = time.time()
        for name in names:
            store.append(name, now, float(n), anomalous=n % 7 == 0)
        n += 1
        time.sleep(0.002)


if __name__ == "__main__":
    main()
