"""Run and Stop, shared by the tabs: the buttons with the status line under them
(:func:`run_controls`), and the current run of each browser session (:class:`Runs`), which
Stop asks to stop between two steps and whose last status it shows (:func:`wire_run`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from . import status
from .widgets import guard

__all__ = ["RunControls", "run_controls", "Run", "Runs", "wire_run"]


@dataclass
class RunControls:
    run: gr.Button
    stop: gr.Button
    status: gr.Textbox
    estimate: gr.Markdown


def run_controls(tab: str, run_label: str = "Run") -> RunControls:
    """Run and Stop side by side, the status line under them and a line for the time
    estimate (``#<tab>-run``, ``#<tab>-stop``, ``#<tab>-status``, ``#<tab>-estimate``)."""
    with gr.Row():
        run = gr.Button(run_label, variant="primary", elem_id=f"{tab}-run", min_width=100)
        stop = gr.Button("Stop", variant="stop", elem_id=f"{tab}-stop", min_width=100)
    state = gr.Textbox(
        label="Status", interactive=False, elem_id=f"{tab}-status", lines=1, max_lines=2
    )
    estimate = gr.Markdown("", elem_id=f"{tab}-estimate", elem_classes=["mgps-note"])
    return RunControls(run, stop, state, estimate)


@dataclass
class Run:
    """One run of a tab in one browser session, as Stop sees it."""

    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    status: str = ""


class Runs:
    """The current run of each browser session in one tab, so that Stop can ask it to stop
    and show where it did.

    A run's generator checks :attr:`Run.stop` between steps; when set it yields its last
    status ("stopped at step k/K", and Compare's table) and returns. Stop waits for that
    (at most one step), so the status it shows is the last word: no streamed update can come
    after it, as one could with a plain cancel of the event. A run still waiting in the
    queue stops before its first step. (API clients stop a job with ``job.cancel()``.)
    """

    WAITING = "waiting for the device…"
    KEEP = 256  # sessions remembered; beyond, finished runs are forgotten

    def __init__(self) -> None:
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _session(request: gr.Request | None) -> str:
        return str(getattr(request, "session_hash", None) or "")

    def queue(self, request: gr.Request) -> str:
        """On Run (beside the run's own event, so as not to delay it): a fresh run for this
        session, unless one is under way (this one, already begun; or an earlier one, which
        Stop then stops); the status says it waits for the device."""
        with self._lock:
            key = self._session(request)
            run = self._runs.get(key)
            if run is None or run.finished.is_set():
                self._runs[key] = Run()
            self._forget()
        return self.WAITING

    def _forget(self) -> None:
        if len(self._runs) > self.KEEP:
            for key in [k for k, r in self._runs.items() if r.finished.is_set()]:
                del self._runs[key]

    def begin(self, request: gr.Request | None) -> Run:
        """In the run's generator: its :class:`Run` (a fresh one for an API call)."""
        with self._lock:
            key = self._session(request)
            run = self._runs.get(key)
            if run is None or run.started:
                run = self._runs[key] = Run()
                self._forget()
            run.started = True
            return run

    def stream(
        self,
        request: gr.Request | None,
        state: gr.Textbox,
        frames: Iterator[Any],
        render: Callable[[Any], dict[Any, Any] | None],
        stopped: Callable[[Any], dict[Any, Any] | None],
    ) -> Iterator[dict[Any, Any]]:
        """Stream a run's ``frames`` as updates: ``render(frame)`` (None: nothing to show
        this time), or ``stopped(frame)`` once Stop was pressed (None: the frame ends the run
        anyway, show it). Library errors become ``gr.Error`` after an ``error: …`` status;
        the status of each update is kept for Stop."""
        run = self.begin(request)
        frames = guard(frames)
        try:
            for frame in frames:
                update = stopped(frame) if run.stop.is_set() else None
                if update is not None:
                    run.status = update[state]
                    yield update
                    return
                update = render(frame)
                if update is None:
                    continue
                run.status = update.get(state, run.status)
                yield update
        except gr.Error as err:
            run.status = status.failed(err.message)
            yield {state: run.status}
            raise
        finally:
            frames.close()  # type: ignore[attr-defined]
            run.finished.set()

    def stop(self, current: str, request: gr.Request) -> str:
        """On Stop: ask this session's run to stop and return the status it ends with."""
        with self._lock:
            run = self._runs.get(self._session(request))
        if run is None or run.finished.is_set():
            return status.stopped(current)
        run.stop.set()
        if not run.started:  # still in the queue: it will stop as soon as it starts
            return "stopped before it started"
        run.finished.wait(timeout=120)
        return run.status or status.stopped(current)


def wire_run(controls: RunControls, runs: Runs, fn: Any, **event: Any) -> Any:
    """Run: ``fn`` runs (in the queue, ``event`` its settings) and, beside it, the status says
    the job waits (at once, without the queue); Stop asks it to stop (:class:`Runs`)."""
    controls.run.click(runs.queue, None, controls.status, queue=False, api_visibility="private")
    run_event = controls.run.click(fn, **event)
    controls.stop.click(
        runs.stop, controls.status, controls.status, queue=False, api_visibility="private"
    )
    return run_event
