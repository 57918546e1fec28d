"""The dispatch suite's fixtures (clock, outbox stand-in, skilled staff, a client) serve here too."""

from tests.dispatch.conftest import (  # noqa: F401  (fixtures)
    _fast_password_hashing,
    client_co,
    frozen_now,
    queued,
    skilled,
)
from tests.notifications.receiver import receiver  # noqa: F401  (fixture)
