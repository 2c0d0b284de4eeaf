"""`interflex-ats`: run the conformance suite (`pytest --pyargs ats`) with every argument passed on."""

from __future__ import annotations

import sys
import textwrap

USAGE = """\
usage: interflex-ats [--target-url URL --ixit FILE] [suite options] [pytest options]
       interflex-ats keygen --out KEY                 # Ed25519 key pair that signs reports (--sign-key)
       interflex-ats verify DIR [--public-key PUB | --fingerprint HEX] [--regrade]   # check a report
       interflex-ats --client-ixit FILE [--client-manual] [report options] [pytest options]

Runs the InterFlex conformance suite: `pytest --pyargs ats` plus every argument given.
Without --target-url/--ixit it starts the bundled reference server in-process and tests it
(a self-test that must be CONFORMANT). With --client-ixit it certifies a DSO or aggregator client
instead: the suite plays the platform and the other parties (docs/client-conformance.md).
The exit code is 0 exactly when the target is CONFORMANT.

suite options:
{options}

examples:
  interflex-ats                                          # self-test against the bundled reference server
  interflex-ats --target-url https://host/interflex/api/v1 --ixit ixit.yaml
  interflex-ats --ixit ixit.yaml --ats-class core-auth,authorization -n 4
  interflex-ats --ixit ixit.yaml --junitxml junit.xml --html report.html --self-contained-html
  interflex-ats --ixit ixit.yaml --cert-report reports/certificate    # certificate.html + results.json
  interflex-ats --client-ixit fixtures/ixit/client-dso.yaml --cert-report reports/client  # client conformance

Every pytest option works as well (-k, -x, -n N with pytest-xdist, --junitxml ...); see `pytest --help`.
`pytest --target-url URL --ixit FILE [pytest options]` without test paths is the same run.
Documentation: docs/user-guide.md
"""


def usage() -> str:
    """The help text, listing the suite's options from their single definitions (suite and reports)."""
    from ats.client.options import OPTIONS as CLIENT_OPTIONS
    from ats.plugin import OPTIONS
    from ats.reporting.plugin import OPTIONS as REPORT_OPTIONS

    lines = []
    for name, kwargs in [*OPTIONS, *CLIENT_OPTIONS, *REPORT_OPTIONS]:
        metavar = f" {kwargs['metavar']}" if "metavar" in kwargs else ""
        lines.append(
            f"  {name}{metavar}\n"
            + textwrap.fill(kwargs["help"], 96, initial_indent=" " * 6, subsequent_indent=" " * 6)
        )
    return USAGE.format(options="\n".join(lines))


# Installed pytest plugins the suite never uses: loading them costs every process (and xdist worker)
# start-up time and memory. `-p no:NAME` is harmless where a plugin is not installed.
QUIET_PLUGINS = ("-p", "no:schemathesis", "-p", "no:locust", "-p", "no:anyio")


def main(argv: list[str] | None = None) -> int:
    """Run the suite; returns pytest's exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(usage())
        return 0
    if args and args[0] in ("keygen", "verify"):  # subcommands: ats.keys, ats.verify
        from ats import keys, verify

        return (keys.main if args[0] == "keygen" else verify.main)(args[1:])
    import pytest

    return int(pytest.main(["--pyargs", "ats", *QUIET_PLUGINS, *args]))


if __name__ == "__main__":
    sys.exit(main())
