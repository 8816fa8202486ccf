"""gatespec's pytest plugin (entry point ``pytest11``): options, selection, run header."""
