"""Moves jurisdiction policy changes along: the runtime's part of what the engine cannot do alone.

The engine has no clock and does not schedule itself. So this driver, on the engine's thread:
- continues every policy sweep one batch at a time (ContinuePolicySweep), each batch queued behind
  the commands already waiting, so other accounts' orders interleave with a large change;
- submits RunDuePolicies when a scheduled change, an exit-window deadline, a partner bank's
  cut-off or a card partner's end falls due, checking the read model once a second against the
  service's clock. A due change the engine will not apply (a holdings condition meeting an asset
  nothing prices) comes back canceled with its reason, which the driver logs as an error for the
  operator.
Both are ordinary journaled commands, so replay does exactly what happened.
"""

import asyncio
import contextlib
import logging

from bourse.commands import ContinuePolicySweep, RunDuePolicies
from bourse.compliance.policy import next_due_ms
from bourse.events import Outcome, PolicySweepProgressed, ScheduledChangeCanceled
from bourse.server.exchange import ExchangeStopped
from bourse.server.service import Service

log = logging.getLogger(__name__)
ACTOR = "system:policy-driver"
TICK_S = 1.0


class PolicyDriver:
    def __init__(self, service: Service) -> None:
        self.service = service
        self._task: asyncio.Task[None] | None = None
        # the seq of the last RunDuePolicies sent: until the view holds it, it says nothing new
        self._due_seq = 0
        service.on_release.append(self._on_release)

    def start(self) -> None:
        """Begin the due-time checks (on the running loop); also resumes sweeps a restart left."""
        self._task = asyncio.get_running_loop().create_task(self._tick())
        for sweep_id in list(self.service.view.sweeps):
            self._continue_soon(sweep_id)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_release(self, batch: list[Outcome]) -> None:
        for outcome in batch:
            for event in outcome.events:
                if type(event) is PolicySweepProgressed and event.done < event.total:
                    self._continue_soon(event.sweep_id)
                elif type(event) is ScheduledChangeCanceled and event.actor == ACTOR:
                    log.error("scheduled change %d canceled: %s", event.schedule_id, event.reason)

    def _continue_soon(self, sweep_id: int) -> None:
        loop = asyncio.get_running_loop()
        loop.call_soon(self._continue, sweep_id)

    def _continue(self, sweep_id: int) -> None:
        # the view holds the progress that asked for this batch, and only this driver continues
        # a sweep, one batch at a time: a sweep still in the view has a batch to run
        if sweep_id in self.service.view.sweeps:
            self._submit(
                ContinuePolicySweep(sweep_id=sweep_id, actor=ACTOR, ts_ms=self.service.clock())
            )

    def _submit(self, cmd: ContinuePolicySweep | RunDuePolicies) -> int:
        """The command's seq, or 0 if the exchange stopped."""
        try:
            return self.service.exchange.submit(cmd).seq
        except ExchangeStopped:
            log.error("policy driver: the exchange stopped; %s not submitted", type(cmd).__name__)
            return 0

    def run_due_now(self) -> bool:
        """Submit RunDuePolicies if anything is due by the service's clock; whether it did."""
        if self.service.released_seq < self._due_seq:
            return False  # the last one is not in the view yet: what is due may be done
        view = self.service.view
        times = [c.effective_ms for c in view.bank_cutoffs.values() if c.status == "SCHEDULED"]
        times += [e.effective_ms for e in view.partner_ends.values() if e.status == "SCHEDULED"]
        policies_due = next_due_ms(view)
        due = min([*times, *([] if policies_due is None else [policies_due])], default=None)
        if due is None or due > self.service.clock():
            return False
        self._due_seq = self._submit(RunDuePolicies(actor=ACTOR, ts_ms=self.service.clock()))
        return True

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.run_due_now()
            except Exception:  # one failed check must not end every later one until a restart
                log.exception("policy driver: checking for due policy changes")
