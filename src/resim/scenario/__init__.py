"""Stage 1, the scenario: a YAML file and its seeds to a validated, sourced `Scenario` (reads files)."""
