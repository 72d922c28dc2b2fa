# SPDX-License-Identifier: GPL-2.0-or-later
"""A tiny TAP producer for meson's `protocol: 'tap'`.

    tap = Tap()

    @tap.test('broker answers Ping')
    def _(sb): ...

    tap.run(sb)            # prints 1..N, one ok/not ok per test, diagnostics as '#'

A test fails when it raises; `Skip('why')` marks it `# SKIP`. `check(cond, msg)` and
`check_eq(a, b, what)` raise AssertionError with a useful message.
"""
import sys
import traceback


class Skip(Exception):
    """Raised by a test to report `ok N - name # SKIP reason`."""


def check(cond, msg='check failed'):
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what='value'):
    if got != want:
        raise AssertionError(f'{what}: got {got!r}, want {want!r}')


def diag(text):
    """Writes text as TAP diagnostics (every line prefixed with '# ')."""
    for line in str(text).splitlines() or ['']:
        sys.stdout.write(f'# {line}\n')
    sys.stdout.flush()


class Tap:
    def __init__(self):
        self.tests = []
        self.on_failure = []   # callables(name) -> str, printed as diagnostics

    def test(self, name):
        def deco(fn):
            self.tests.append((name, fn))
            return fn
        return deco

    def add(self, name, fn):
        self.tests.append((name, fn))

    def run(self, *args):
        """Runs every test in order with *args; returns the number of failures."""
        out = sys.stdout
        out.write(f'1..{len(self.tests)}\n')
        out.flush()
        failures = 0
        for i, (name, fn) in enumerate(self.tests, 1):
            try:
                fn(*args)
            except Skip as e:
                out.write(f'ok {i} - {name} # SKIP {e}\n')
            except BaseException as e:  # noqa: B902 - a test must never end the run
                if isinstance(e, KeyboardInterrupt):
                    raise
                failures += 1
                out.write(f'not ok {i} - {name}\n')
                diag(''.join(traceback.format_exception(e)).rstrip())
                for hook in self.on_failure:
                    try:
                        diag(hook(name))
                    except Exception as he:  # diagnostics must not hide the failure
                        diag(f'(failure hook raised {he!r})')
            else:
                out.write(f'ok {i} - {name}\n')
            out.flush()
        return failures


def bail_out(reason):
    sys.stdout.write(f'Bail out! {reason.splitlines()[0] if reason else ""}\n')
    diag(reason)
    sys.stdout.flush()
