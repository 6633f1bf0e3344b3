"""Markers of the security tests (registered here: pyproject.toml is the lead's)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "api_fuzz: schemathesis against /api/schema/ (deterministic, < 60 s)"
    )
