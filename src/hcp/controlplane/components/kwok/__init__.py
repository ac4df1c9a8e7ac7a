"""kwok: templates (kwok.yaml) and adapter."""
