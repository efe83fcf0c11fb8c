"""Bootstrap idempotency and caching, and var/sandbox.env (read in development only)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.env import load_env_file, read_env_file, update_env_file
from sandbox.erp.bootstrap import cache_key, ensure_bootstrapped
from sandbox.erp.conf import BASE_DIR, ErpSandbox, sandbox_from_env
from sandbox.erp.testing import cache_dir


def test_bootstrap_is_idempotent_and_restores_from_cache(tryton_server, tmp_path):
    # tryton_server guarantees the document template is cached.
    sandbox = ErpSandbox(var_dir=tmp_path, cache_path=cache_dir())
    first = ensure_bootstrapped(sandbox, log=lambda m: None)
    assert first.source == "cache" and first.seconds < 10
    assert sandbox.sqlite_file.stat().st_size > 1_000_000
    again = ensure_bootstrapped(sandbox, log=lambda m: None)
    assert again.source == "existing"
    assert again.api_key == first.api_key == tryton_server.api_key
    sandbox.sqlite_file.write_bytes(b"scribbled")
    reset = ensure_bootstrapped(sandbox, reset=True, log=lambda m: None)
    assert reset.source == "cache"
    assert sandbox.sqlite_file.stat().st_size > 1_000_000


def test_cache_key_depends_on_rounding_and_backend(tmp_path):
    document = ErpSandbox(var_dir=tmp_path)
    assert cache_key(document) == cache_key(ErpSandbox(var_dir=tmp_path / "other"))
    assert cache_key(document) != cache_key(document.with_rounding("line"))
    postgres = ErpSandbox(var_dir=tmp_path, database_url="postgresql://u@127.0.0.1:5432")
    assert cache_key(document) != cache_key(postgres)


def test_configuration_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="tax rounding"):
        ErpSandbox(var_dir=tmp_path, rounding="bankers")
    with pytest.raises(ValueError, match="postgresql"):
        ErpSandbox(var_dir=tmp_path, database_url="mysql://x")
    monkeypatch.setenv("ERP_TAX_ROUNDING", "line")
    assert sandbox_from_env(var_dir=tmp_path).rounding == "line"
    assert sandbox_from_env(var_dir=tmp_path, rounding="document").rounding == "document"


def test_env_file_update_keeps_other_writers_lines(tmp_path):
    env = tmp_path / "sandbox.env"
    env.write_text("# made by the sandboxes\nMAGENTO_TOKEN=abc\nERP_API_KEY=old\n")
    update_env_file(env, {"ERP_API_KEY": "new", "ERP_DATABASE": "luma_uk"})
    assert read_env_file(env) == {
        "MAGENTO_TOKEN": "abc",
        "ERP_API_KEY": "new",
        "ERP_DATABASE": "luma_uk",
    }
    assert env.read_text().startswith("# made by the sandboxes\n")


def test_env_file_never_overrides_the_environment(tmp_path, monkeypatch):
    env = tmp_path / "sandbox.env"
    env.write_text("DESK_TEST_A=from-file\nDESK_TEST_B=from-file\n")
    monkeypatch.setenv("DESK_TEST_A", "from-env")
    monkeypatch.delenv("DESK_TEST_B", raising=False)
    load_env_file(env)
    assert os.environ["DESK_TEST_A"] == "from-env"
    assert os.environ["DESK_TEST_B"] == "from-file"
    monkeypatch.delenv("DESK_TEST_B")


def test_env_file_rejects_garbage(tmp_path):
    env = tmp_path / "sandbox.env"
    env.write_text("ERP_API_KEY\n")
    with pytest.raises(Exception, match="expected NAME=value"):
        read_env_file(env)


@pytest.mark.parametrize(("debug", "expected"), [("1", "key-from-file"), ("0", "")])
def test_settings_read_sandbox_env_only_in_development(tmp_path, debug, expected):
    (tmp_path / "sandbox.env").write_text("ERP_API_KEY=key-from-file\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ERP_", "DJANGO_", "DATABASE"))}
    env.update(
        DESK_VAR_DIR=str(tmp_path),
        DJANGO_DEBUG=debug,
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(repr(settings.ERP_API_KEY))",
        ],
        env=env,
        cwd=Path(BASE_DIR),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(expected)


def test_bootstrap_command_restores_and_writes_sandbox_env(tryton_server, tmp_path, monkeypatch):
    from django.core.management import call_command
    from django.test import override_settings

    monkeypatch.setenv("ERP_SANDBOX_CACHE_DIR", str(cache_dir()))
    monkeypatch.delenv("ERP_TAX_ROUNDING", raising=False)
    monkeypatch.delenv("ERP_DATABASE_URL", raising=False)
    (tmp_path / "sandbox.env").write_text("MAGENTO_TOKEN=kept\n")
    out = []
    with override_settings(VAR_DIR=tmp_path):
        call_command("sandbox", "erp-bootstrap", stdout=_Collect(out))
        call_command("sandbox", "erp-bootstrap", stdout=_Collect(out))
    assert "ERP sandbox ready (cache" in out[0]
    assert "ERP sandbox ready (existing" in out[1]
    assert read_env_file(tmp_path / "sandbox.env") == {
        "MAGENTO_TOKEN": "kept",
        "ERP_BASE_URL": "http://127.0.0.1:8082",
        "ERP_DATABASE": "luma_uk",
        "ERP_API_KEY": tryton_server.api_key,
    }
    assert (tmp_path / "tryton" / "db" / "luma_uk.sqlite").exists()


class _Collect:
    def __init__(self, sink: list):
        self.sink = sink

    def write(self, text: str) -> None:
        self.sink.append(text)

    def flush(self) -> None:
        pass


def test_prune_drops_templates_idle_for_a_week(tmp_path):
    from sandbox.erp.template_backends import SqliteBackend as _SqliteBackend

    sandbox = ErpSandbox(var_dir=tmp_path)
    sandbox.cache_dir.mkdir(parents=True)
    old, fresh = sandbox.cache_dir / "tryton-old.sqlite", sandbox.cache_dir / "tryton-new.sqlite"
    for template in (old, fresh):
        template.write_bytes(b"x")
        template.with_suffix(".json").write_text("{}")
    week_ago = time.time() - 8 * 86400
    os.utime(old, (week_ago, week_ago))
    _SqliteBackend(sandbox).prune()
    assert not old.exists() and not old.with_suffix(".json").exists()
    assert fresh.exists() and fresh.with_suffix(".json").exists()
