"""`python -m icedit_lib.experiments ...`"""
from . import main

main()
