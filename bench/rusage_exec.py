"""Run a command and write its exit code and peak memory to a file: a small launcher.

    python bench/rusage_exec.py OUT.json COMMAND [ARG ...]

Linux folds the resident memory a process had before exec() into its ru_maxrss, so a child
forked straight from a large benchmark process reports the parent's memory. This launcher is a
fresh interpreter that imports only os, sys and json; the command forked from it carries at most
this launcher's ~10 MB. Exits with the command's exit code (128 + signal if it was killed).
"""

import json
import os
import sys


def main() -> int:
    out, command = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child becomes the command
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"returncode": code, "maxrss_kb": usage.ru_maxrss}, fh)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
