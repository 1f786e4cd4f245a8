import sys

from ingest.arrow_alone import keep_pandas_out
from ingest.cli import main

if sys.argv[1:2] == ["night"]:  # (the simulator uses pandas, and pyarrow with it)
    keep_pandas_out()   # before any worker is forked: pyarrow would import pandas in each (memory)
sys.exit(main())
