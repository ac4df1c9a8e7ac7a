"""The NodePool controller, split along its responsibilities.

- `machines`: what a pass observes (machines with their Nodes and pods);
- `scheduling`: what pods need and what nodes offer (autoscaling arithmetic);
- `plan` and `rollout`: the pure decisions (size, repairs, autoscaling, rollout steps);
- `drain`: cordoning and evicting;
- `controller`: the controller, which observes, decides with `plan`, acts and reports.
"""

from hcp.operator.nodepool.controller import NodePoolController
from hcp.operator.nodepool.plan import Settings

__all__ = ["NodePoolController", "Settings"]
