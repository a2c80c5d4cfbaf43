"""The engine's state is a large, long-lived heap (a million accounts is millions of objects).

CPython's full collections walk all of it: measured up to 2.9 s at 1,000,000 accounts, a pause of
the engine for everyone. Freezing what recovery built moves it out of the collector's sight; what
the engine allocates afterwards is still collected normally.
"""

import gc


def settle_heap() -> None:
    gc.collect()
    gc.freeze()
