"""Writers for ActionIQ extracts in the layout of the input contract (spec/actioniq-extracts.md).

Used by the demo, the tests, the scenario runner and the benchmark generator, so that every
producer of extracts writes exactly the same layout. A delivery's manifest is written last,
through a temporary name, as ActionIQ's writers do: its presence means the delivery is complete.
"""

from extracts.writer import (
    write_attributes_delivery,
    write_events_file,
    write_membership_delivery,
)

__all__ = ["write_attributes_delivery", "write_events_file", "write_membership_delivery"]
