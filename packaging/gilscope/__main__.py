"""python -m gilscope ...: the same as the gilscope command."""
import sys

from gilscope import main

sys.exit(main())
