import sys

from ingest.arrow_alone import set_up

if sys.argv[1:2] == ["night"]:  # (the simulator uses pandas, and pyarrow with it)
    set_up()  # before pyarrow is imported and before any worker is forked: the ingest's memory

from ingest.cli import main  # noqa: E402

sys.exit(main())
