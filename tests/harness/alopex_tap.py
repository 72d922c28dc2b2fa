# SPDX-License-Identifier: GPL-2.0-or-later
"""A tiny TAP producer for meson's `protocol: 'tap'`.

    tap = Tap()

    @tap.test('broker answers Ping')
    def _(sb): ...

    tap.run(sb)            # prints 1..N, one ok/not ok per test, diagnostics as '#'

A test fails when it raises; `Skip('why')` marks it `# SKIP`. `check(cond, msg)` and
`check_eq(a, b, what)` raise AssertionError with a useful message.

CI strictness: when the environment has CI=true (or 1/yes), a Skip is reported as a
failure (`not ok N - name (would skip, but CI=true: why)`, no TAP directive): in CI a
missing tool, binary or policy file is a broken test environment, not a reason to pass.
Only a skip that reflects a deliberate build choice (e.g. `-Dman=disabled`) passes
`optional=True` and stays a skip. `skip_all(reason)` is the whole-script form
(`1..0 # SKIP`, or a failing one-test plan in CI).

Order: tests of a script must not depend on each other. ALOPEX_TAP_ORDER=reverse or
ALOPEX_TAP_ORDER=shuffle:SEED runs them in another order to prove it (tests added with
final=True, such as the harness' sanitizer check, stay last). ALOPEX_TAP_ONLY=TEXT runs
only the tests whose name contains TEXT (and the final ones).

Tests that need Debian's kernel (link kinds or nf_tables behaviour this machine's kernel
may lack) are declared `@tap.test(name, vm=True)`. They run only inside the test VM
(tests/integration/vm, one boot for all of them), which runs the script with
ALOPEX_IN_VM=1: there only the vm tests run (and the final ones). Anywhere else each is
reported `ok N - name # SKIP runs in the test VM`, which is no failure under CI=true: the
vm test runs it, and fails when it cannot.
"""
import os
import random
import sys
import traceback


def in_vm():
    """True inside the test VM (tests/integration/vm sets ALOPEX_IN_VM=1)."""
    return os.environ.get('ALOPEX_IN_VM') == '1'


def in_ci():
    """True when the environment says we run in CI (CI=true, as most CI systems set)."""
    return os.environ.get('CI', '').strip().lower() in ('true', '1', 'yes')


class Skip(Exception):
    """Raised by a test to report `ok N - name # SKIP reason`; a failure under CI=true
    unless optional=True (a deliberate build choice, not a missing tool)."""

    def __init__(self, reason='', optional=False):
        super().__init__(reason)
        self.optional = optional

    def fails_here(self):
        return in_ci() and not self.optional


def skip_all(reason, optional=False):
    """Prints the TAP plan of a script that cannot run at all; returns its exit status
    (0 for `1..0 # SKIP`, 1 and a failing test under CI=true, see the module doc)."""
    if Skip(reason, optional).fails_here():
        sys.stdout.write(f'1..1\nnot ok 1 - would skip, but CI=true: {reason}\n')
        sys.stdout.flush()
        return 1
    sys.stdout.write(f'1..0 # SKIP {reason}\n')
    sys.stdout.flush()
    return 0


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
        self.final = []        # run after every other test, whatever the order
        self.on_failure = []   # callables(name) -> str, printed as diagnostics
        self.vm = set()        # names of the tests that run only in the test VM

    def test(self, name, vm=False):
        """Decorator adding a test; vm=True: it runs only in the test VM (module doc)."""
        def deco(fn):
            self.tests.append((name, fn))
            if vm:
                self.vm.add(name)
            return fn
        return deco

    def add(self, name, fn, final=False):
        (self.final if final else self.tests).append((name, fn))

    def ordered(self):
        """The tests in the order ALOPEX_TAP_ORDER asks for, then the final ones."""
        tests = list(self.tests)
        order = os.environ.get('ALOPEX_TAP_ORDER', '')
        if order == 'reverse':
            tests.reverse()
        elif order.startswith('shuffle:'):
            random.Random(order[len('shuffle:'):]).shuffle(tests)
        elif order:
            raise ValueError(f'ALOPEX_TAP_ORDER={order!r}: want reverse or shuffle:SEED')
        only = os.environ.get('ALOPEX_TAP_ONLY', '')
        if only:
            tests = [t for t in tests if only in t[0]]
            if not tests:
                raise ValueError(f'ALOPEX_TAP_ONLY={only!r} matches no test')
        if in_vm():
            tests = [t for t in tests if t[0] in self.vm]
            if not tests:
                raise ValueError('ALOPEX_IN_VM=1, but no test of this script is a vm test')
        else:
            tests = [(n, _in_the_vm if n in self.vm else fn) for n, fn in tests]
        return tests + self.final

    def run(self, *args):
        """Runs every test with *args; returns the number of failures."""
        out = sys.stdout
        tests = self.ordered()
        out.write(f'1..{len(tests)}\n')
        out.flush()
        failures = 0
        for i, (name, fn) in enumerate(tests, 1):
            try:
                fn(*args)
            except Skip as e:
                if e.fails_here():
                    failures += 1
                    out.write(f'not ok {i} - {name} (would skip, but CI=true: {e})\n')
                else:
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


def _in_the_vm(*_args):
    raise Skip('runs in the test VM (tests/integration/vm)', optional=True)


def bail_out(reason):
    sys.stdout.write(f'Bail out! {reason.splitlines()[0] if reason else ""}\n')
    diag(reason)
    sys.stdout.flush()
