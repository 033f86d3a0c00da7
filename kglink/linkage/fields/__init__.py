"""Comparisons per kind of value: the keys and levels linkage compares values by.

Cleaning lives below, in kglink/standardise/ (the loaders use it too).
"""
