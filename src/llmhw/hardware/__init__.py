"""Where it runs: memory technologies, chips, interconnects, systems, and the sourced catalog."""
