import sys

from store.admin import main

sys.exit(main())
