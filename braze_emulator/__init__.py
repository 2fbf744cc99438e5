"""A local emulator of the Braze REST API (/users/track, /users/export/ids) for tests,
the demo and benchmarks. See README.md; start it with `python -m braze_emulator`."""
