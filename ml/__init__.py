"""GlitchLab's machine-learning core: pure Python, no Django (tests/test_architecture.py)."""
