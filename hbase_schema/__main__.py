"""``python -m hbase_schema create|describe|drop``: the table admin, under the schema's name.

The admin opens the store, so its code is ``store/admin.py`` (also ``python -m store``). The
schema package imports nothing above it: this entry hands the command to a fresh
``python -m store`` process, with the same arguments, standard streams and exit code.
"""
import os
import sys
from pathlib import Path

root = str(Path(__file__).resolve().parents[1])
path = os.environ.get("PYTHONPATH")
env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
os.execve(sys.executable, [sys.executable, "-m", "store", *sys.argv[1:]], env)
