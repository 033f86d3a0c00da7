"""Synthetic county generator: agency extracts in format v1, with their truth."""
from kglink.synth.generate import SynthSummary, generate

__all__ = ["SynthSummary", "generate"]
