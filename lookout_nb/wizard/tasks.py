"""Running slow calls off the kernel's thread, with a progress line and an error area inside the wizard.

A button callback that blocked on boto3 would freeze the notebook (the kernel could not even process the next
click), so every service call of the wizard goes through :class:`Tasks`: it runs the call in a worker thread, shows
a spinner and "<what>…" while it runs, and puts any exception into an :class:`ErrorArea` instead of a traceback.
Widgets are updated from the worker by setting traits, which ipykernel sends safely from any thread.

Tests (and scripts) wait for everything started so far with :meth:`Tasks.wait`.

>>> tasks = Tasks()
>>> future = tasks.run("Adding", lambda: 1 + 1)
>>> tasks.wait() and future.result()
2
"""

from __future__ import annotations

import html
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor

import ipywidgets as widgets

from .._palette import ALERT, LEVELS, SPINNER_RING
from ..errors import LookoutNbError
from .fields import button_layout

#: The name prefix of the worker threads.
WORKER_PREFIX = "lookout-nb-wizard"


def describe_error(exc: BaseException) -> str:
    """What a person should read about ``exc``: the toolkit's own message, or the type and message otherwise.

    >>> describe_error(ValueError("bad"))
    'ValueError: bad'
    """
    if isinstance(exc, LookoutNbError):  # a conflict's message lists its differences itself: once
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class Shown(Exception):
    """A failure the step that caused it already shows (say a conflict, with its Update action): the progress line
    says ``str(exc)``, the error area stays as it is.

    >>> tasks = Tasks()
    >>> _ = tasks.run("Submitting x", lambda: (_ for _ in ()).throw(Shown("refused: see the Submit step")))
    >>> tasks.wait() and (tasks.status.html.value, tasks.errors.messages)
    ('Submitting x: refused: see the Submit step', [])
    """


class ErrorArea:
    """Errors shown inside the wizard, newest first, with a Dismiss button.

    >>> area = ErrorArea()
    >>> area.show("Submitting", ValueError("no"))
    >>> area.messages
    ['Submitting failed: ValueError: no']
    """

    def __init__(self, keep: int = 5):
        self.keep = keep
        self.messages: list[str] = []
        self.html = widgets.HTML()
        self.html.add_class("lnb-errors")
        self.dismiss = widgets.Button(
            description="Dismiss errors", tooltip="Hide the error messages", icon="times",
            layout=button_layout(display="none"),
        )
        self.dismiss.on_click(lambda _: self.clear())
        self.box = widgets.VBox([self.html, self.dismiss])
        self._lock = threading.Lock()

    def show(self, context: str, exc: BaseException | str) -> None:
        """Add one error: ``context`` says what was being done."""
        text = exc if isinstance(exc, str) else describe_error(exc)
        message = f"{context} failed: {text}"
        with self._lock:
            if self.messages and self.messages[0] == message:
                return  # the same failure again (an auto-refresh against a service that is down): shown once
            self.messages = [message] + self.messages[: self.keep - 1]
            self._render()

    def withdraw(self, context: str) -> None:
        """Remove the errors of ``context`` (it has just succeeded: they are no longer true).

        >>> area = ErrorArea(); area.show("Refreshing x", "timed out"); area.withdraw("Refreshing x")
        >>> area.messages
        []
        """
        with self._lock:
            kept = [m for m in self.messages if not m.startswith(f"{context} failed: ")]
            if kept != self.messages:
                self.messages = kept
                self._render()

    def clear(self) -> None:
        """Remove every error message."""
        with self._lock:
            self.messages = []
            self._render()

    def _render(self) -> None:
        if not self.messages:
            self.html.value = ""
            self.dismiss.layout.display = "none"
            return
        items = "".join(
            f'<pre style="white-space:pre-wrap;margin:2px 0;font-family:inherit">{html.escape(m)}</pre>'
            for m in self.messages
        )
        self.html.value = (
            f'<div role="alert" style="border:1px solid {ALERT["border"]};background:{ALERT["background"]};'
            f'color:{ALERT["text"]};'
            f'padding:6px 10px;border-radius:4px">{items}</div>'
        )
        self.dismiss.layout.display = ""


#: A CSS spinner (no icon font or emoji needed, so it shows in every frontend).
_SPINNER = (
    "<style>@keyframes lnb-spin{to{transform:rotate(360deg)}}</style>"
    '<span class="lnb-spinner" style="display:inline-block;width:10px;height:10px;margin-right:6px;'
    f'border:2px solid {SPINNER_RING};border-top-color:{LEVELS["info"]};border-radius:50%;'
    'animation:lnb-spin .8s linear infinite">'
    "</span>"
)


class Status:
    """The progress line: "⏳ what is running" while something runs, else the last thing that finished."""

    def __init__(self):
        self.html = widgets.HTML("Ready.")
        self.html.add_class("lnb-status")
        self._running: dict[int, str] = {}
        self._idle = "Ready."
        self._failed = False  # the idle line reports a failure
        self._next = 0
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """True while at least one operation runs."""
        return bool(self._running)

    def begin(self, label: str) -> int:
        with self._lock:
            self._next += 1
            self._running[self._next] = label
            self._render()
            return self._next

    def end(self, ticket: int, done: str | None = None, failed: bool = False) -> None:
        with self._lock:
            label = self._running.pop(ticket, "")
            self._idle = done if done is not None else f"{label}: done."
            self._failed = failed
            self._render()

    def succeeded(self, label: str) -> None:
        """A quiet operation succeeded: a failure line from before is no longer the latest news (it goes)."""
        with self._lock:
            if self._failed:
                self._idle, self._failed = f"{label}: done.", False
                self._render()

    def _render(self) -> None:
        if self._running:
            labels = ", ".join(dict.fromkeys(self._running.values()))
            self.html.value = f'{_SPINNER}<span class="lnb-busy">{html.escape(labels)}&hellip;</span>'
        else:
            self.html.value = html.escape(self._idle)


class Tasks:
    """Run callables in worker threads; progress in :attr:`status`, failures in :attr:`errors`."""

    def __init__(self, status: Status | None = None, errors: ErrorArea | None = None, workers: int = 4):
        self.status = status or Status()
        self.errors = errors or ErrorArea()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=WORKER_PREFIX)
        self._futures: set[Future] = set()
        self._lock = threading.Lock()

    def run(self, label: str, fn, *args, on_done=None, quiet: bool = False, **kwargs) -> Future:
        """Run ``fn(*args, **kwargs)`` in a worker; then ``on_done(result)`` in the same worker.

        Exceptions of either go to the error area; the future then holds ``None``. ``quiet=True`` is for work
        nobody asked for (listing names in the background, an auto-refresh): it leaves the progress line alone
        and reports only a failure.
        """
        ticket = None if quiet else self.status.begin(label)

        def job():
            done, failed = None, False
            try:
                result = fn(*args, **kwargs)
                if on_done is not None:
                    on_done(result)
                self.errors.withdraw(label)  # an earlier failure of the same operation is no longer true
                if ticket is None:
                    self.status.succeeded(label)
                return result
            except Shown as exc:
                done, failed = f"{label}: {exc}", True
                return None
            except Exception as exc:  # noqa: BLE001 - shown in the wizard, never as a traceback
                done, failed = f"{label}: failed (see the error above).", True
                self.errors.show(label, exc)
                self.last_traceback = traceback.format_exc()
                return None
            finally:
                if ticket is not None:
                    self.status.end(ticket, done, failed)

        future = self._pool.submit(job)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def guard(self, label: str, fn, *args, **kwargs):
        """Run a quick ``fn`` now, in this thread, showing an exception in the error area instead of raising."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            self.errors.show(label, exc)
            self.last_traceback = traceback.format_exc()
            return None

    def _forget(self, future: Future) -> None:
        with self._lock:
            self._futures.discard(future)

    @property
    def pending(self) -> int:
        """How many operations have not finished."""
        with self._lock:
            return len(self._futures)

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until every operation started so far, and those they started, has finished.

        Returns True; raises TimeoutError when ``timeout`` seconds pass first.
        """
        while True:
            with self._lock:
                futures = list(self._futures)
            if not futures:
                return True
            for future in futures:
                try:
                    future.result(timeout=timeout)
                except TimeoutError as exc:
                    raise TimeoutError(f"a wizard operation did not finish within {timeout} s") from exc
                except Exception:  # noqa: BLE001 - already shown in the error area
                    pass
                self._forget(future)

    def shutdown(self) -> None:
        """Stop accepting work; running operations finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)
