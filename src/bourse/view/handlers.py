"""How the read model's fold finds the handler of each event type: a registry filled by
decorating each handler (`@handlers.on(EventType)`), one per group of events."""

from collections.abc import Callable
from typing import Any

from bourse.view.model import ReadModel

Handler = Callable[[ReadModel, Any, int], None]


class Handlers(dict[type, Handler]):
    def on(self, event_type: type) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self[event_type] = fn
            return fn

        return register
