"""The verbs of Api (api.py), one file each."""
