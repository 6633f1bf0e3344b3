"""Accounts use Django's User; roles are groups (see roles.py), skill lives in labeling."""
