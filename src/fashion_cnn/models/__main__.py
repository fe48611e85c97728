"""`python -m fashion_cnn.models list | show NAME [--models FILE ...]`: the registered models, their knobs."""

import sys

from .cli import main

sys.exit(main())
