"""Production settings: `check --deploy` passes, and missing secrets stop start-up clearly."""

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT = Path(__file__).resolve().parents[3]


def _manage(*args, **env_overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTEST_VERSION", "ERHUO_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "-production-secret-with-enough-entropy-0123456789abcdef",
            "ERHUO_PII_KEY": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "erhuo.example",
            "ERHUO_VAR_DIR": str(PROJECT / "var"),
        }
    )
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_passes_with_debug_off():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_pii_key_in_production_is_a_clear_start_up_error():
    result = _manage("check", ERHUO_PII_KEY=None)
    assert result.returncode != 0
    assert "ERHUO_PII_KEY is not set" in result.stderr


def test_missing_secret_key_in_production_is_a_clear_start_up_error():
    result = _manage("check", SECRET_KEY=None)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_malformed_pii_key_fails_the_check():
    result = _manage("check", ERHUO_PII_KEY="short")
    assert result.returncode != 0
    assert "erhuo.E002" in result.stderr
