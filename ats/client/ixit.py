"""The client IXIT (PROFILE.md section 11, "Client IXIT"): how the suite runs the client under test.

role: aggregator                 # dso | aggregator
entity_id: agg1                  # the suite creates this user on the platform it plays
command: [python, my_client.py, --base-url, "{base_url}", --user, "{username}", ...]
timeout_s: 60                    # the longest one scenario may take
# optional (decisions D-71, D-72):
cwd: .                           # working folder of the command, relative to this file (default: its folder)
env: {MY_CLIENT_LOG: debug}      # extra environment variables of the command
dso: dso1                        # the DSO an aggregator serves ({dso}); default dso1
region_id: region-1
unit: kW
currency: EUR
"""

from __future__ import annotations

import shutil
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from interflex.errors import ConfigError
from interflex.profile import CLIENT_ROLES, is_valid_id

UNITS = ("W", "kW", "MW")
PLACEHOLDERS = (
    "base_url",
    "username",
    "password",
    "client_id",
    "client_secret",
    "entity_id",
    "dso",
    "region_id",
    "unit",
    "currency",
    "python",  # the suite's own interpreter (D-71)
)
_KEYS = {"role", "entity_id", "command", "timeout_s", "cwd", "env", "dso", "region_id", "unit", "currency"}
MAX_TIMEOUT = 3600.0


@dataclass(frozen=True)
class ClientIxit:
    """A loaded, validated client IXIT."""

    role: str
    entity_id: str
    command: tuple[str, ...]
    timeout_s: float
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    dso: str = "dso1"
    region_id: str = "region-1"
    unit: str = "kW"
    currency: str = "EUR"
    source: str = ""

    def argv(self, values: dict[str, str]) -> list[str]:
        """The command with its placeholders filled in from `values` (plus `{python}`)."""
        values = {"python": sys.executable, **values}
        return [arg.format_map(values) for arg in self.command]


def _fail(source: str, message: str) -> ConfigError:
    return ConfigError(f"client IXIT {source}: {message}")


def _check_placeholders(source: str, command: list[str]) -> None:
    for arg in command:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(arg) if name is not None]
        except ValueError as exc:
            raise _fail(source, f"command argument {arg!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
        unknown = [name for name in names if name not in PLACEHOLDERS]
        if unknown:
            raise _fail(
                source,
                f"command argument {arg!r} names the unknown placeholder {{{unknown[0]}}}; "
                f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}",
            )


def parse_client_ixit(data: Any, source: str = "client IXIT", base: Path | None = None) -> ClientIxit:
    """Validate a parsed client IXIT; `ConfigError` with one line naming the first problem.
    `base` is the folder relative paths (`cwd`) start from (the IXIT file's folder)."""
    if not isinstance(data, dict):
        raise _fail(source, "expected a mapping with role, entity_id, command, timeout_s")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise _fail(source, f"unknown keys {unknown}; known: {', '.join(sorted(_KEYS))}")
    role = data.get("role")
    if role not in CLIENT_ROLES:
        raise _fail(source, f"role must be one of {', '.join(CLIENT_ROLES)}, not {role!r}")
    ids = {key: data.get(key, default) for key, default in (("entity_id", None), ("dso", "dso1"))}
    ids["region_id"] = data.get("region_id", "region-1")
    for key, value in ids.items():
        if not is_valid_id(value):
            raise _fail(source, f"{key} must be an id (1-64 of A-Z a-z 0-9 . _ : -), not {value!r}")
    if role == "aggregator" and ids["dso"] == ids["entity_id"]:
        raise _fail(source, f"dso {ids['dso']!r} (the DSO the aggregator serves) must differ from entity_id")
    command = data.get("command")
    if isinstance(command, str) or not isinstance(command, list) or not command:
        raise _fail(source, "command must be a non-empty list of strings (the program and its arguments)")
    if not all(isinstance(arg, str | int | float) and not isinstance(arg, bool) for arg in command):
        raise _fail(source, "every command argument must be a string")
    command = [str(arg) for arg in command]
    _check_placeholders(source, command)
    timeout = data.get("timeout_s", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= MAX_TIMEOUT:
        raise _fail(source, f"timeout_s must be a number of seconds in (0, {MAX_TIMEOUT:g}], not {timeout!r}")
    unit, currency = data.get("unit", "kW"), data.get("currency", "EUR")
    if unit not in UNITS:
        raise _fail(source, f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isupper()):
        raise _fail(source, f"currency must be an ISO 4217 code such as EUR, not {currency!r}")
    env = data.get("env") or {}
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise _fail(source, "env must be a mapping of variable names to strings")
    base = base or Path.cwd()
    cwd_value = data.get("cwd", ".")
    if not isinstance(cwd_value, str):
        raise _fail(source, "cwd must be a folder path")
    cwd = (base / cwd_value).resolve()
    if not cwd.is_dir():
        raise _fail(source, f"cwd {cwd} is not a folder")
    program = command[0].replace("{python}", sys.executable)
    if "{" not in program and shutil.which(program, path=None) is None and not (cwd / program).is_file():
        raise _fail(source, f"command {program!r} is not an executable on PATH nor a file in {cwd}")
    return ClientIxit(
        role=role,
        entity_id=ids["entity_id"],
        command=tuple(command),
        timeout_s=float(timeout),
        cwd=cwd,
        env=dict(env),
        dso=ids["dso"],
        region_id=ids["region_id"],
        unit=unit,
        currency=currency,
        source=source,
    )


def load_client_ixit(path: str | Path) -> ClientIxit:
    """Read and validate a client IXIT file (`--client-ixit FILE`)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the client IXIT {path}: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"client IXIT {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_client_ixit(data, str(path), path.resolve().parent)
