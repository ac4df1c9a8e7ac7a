"""How many hosted control planes the management cluster holds: the docs' sizing formulas (2.2) with
hcp's own baseline (formulas, baseline, nodes, report; docs/capacity.md)."""
