"""The zoo's version: in the package metadata, and in every config.json the zoo writes."""

__version__ = "0.1.0"
