import sys

from belay_emulator.cli import main

sys.exit(main())
