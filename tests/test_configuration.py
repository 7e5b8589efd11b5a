"""Configuration doesn't drift: every variable settings.py reads is in the README's table."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "sessiondemo" / "settings.py").read_text()
    pattern = r"""(?:os\.environ\.get|env_bool|env_int|env_float|env_list)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    return set(re.findall(pattern, source))


def variables_in_readme_table() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))


def test_settings_read_a_plausible_number_of_variables():
    assert {"SECRET_KEY", "REDIS_URL", "DATABASE_URL", "SESSION_IDLE_TIMEOUT"} <= variables_read_by_settings()


def test_every_variable_settings_read_is_documented_in_the_readme():
    missing = variables_read_by_settings() - variables_in_readme_table()
    assert not missing, f"Add these to the README's configuration table: {sorted(missing)}"


def test_the_readme_documents_no_variable_that_nothing_reads():
    provisioning_only = {"AZURE_SUBSCRIPTION_ID", "AZURE_ARM_ENDPOINT", "AZURE_ACCESS_TOKEN", "REQUESTS_CA_BUNDLE"}
    stale = variables_in_readme_table() - variables_read_by_settings() - provisioning_only
    assert not stale, f"The README documents variables nothing reads: {sorted(stale)}"


def test_nothing_but_settings_reads_the_environment():
    readers = []
    for path in ROOT.glob("**/*.py"):
        # loadtest/ is locust's scenario, a separate program run by locust, not by Django.
        if path.parts[len(ROOT.parts)] in {".venv", "tests", "var", "loadtest"} or path.name == "settings.py":
            continue
        text = path.read_text()
        # Entry points may only give defaults: the settings module, and manage.py's DEBUG=1.
        text = re.sub(r"os\.environ\.setdefault\(\"DJANGO_SETTINGS_MODULE\", [^)]*\)", "", text)
        if path.name == "manage.py":
            text = text.replace('os.environ.setdefault("DEBUG", "1")', "")
        # Handing the whole environment on to a child process ({**os.environ}) reads nothing.
        if re.search(r"os\.environ(\.get|\[|\.setdefault)", text) or "os.getenv" in text:
            readers.append(str(path.relative_to(ROOT)))
    assert not readers, f"Only sessiondemo/settings.py may read the environment; these do too: {readers}"


def test_manage_py_defaults_to_development_and_the_wsgi_app_to_production():
    assert 'os.environ.setdefault("DEBUG", "1")' in (ROOT / "manage.py").read_text()
    assert "DEBUG" not in (ROOT / "sessiondemo" / "wsgi.py").read_text()
