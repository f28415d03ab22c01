"""The development kit of the SAP warehouse (generator, exports, demo, runner, scratch databases)."""
