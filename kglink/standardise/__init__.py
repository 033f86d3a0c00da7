"""Standardising values as they are read: one module per kind of value.

Below both the loaders and linkage: the loaders clean each value once with these
functions, and linkage (kglink/linkage/fields/) and search parse and compare the values
the same way, so a value is read alike wherever it is read.
"""
