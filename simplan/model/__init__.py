"""The pure domain: calendar, team, leads, plan and behaviour. No simulation kernel, no I/O."""
