"""One module per kind of value: its cleaning, its comparison, how specific a match is.

The loaders use the cleaning half of each module, linkage uses the comparison half, so a
value is cleaned the same way wherever it is read.
"""
