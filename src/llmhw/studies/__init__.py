"""The paper's questions as reproducible studies. Each module has one ``run()`` returning a Study."""

# `llmhw study all` runs the studies in this order (the paper's questions, then its economics and
# claims); other modules with a run() follow, sorted.
STUDY_ORDER: tuple[str, ...] = ("trends", "hbf", "near_memory", "stacking", "interconnect", "mobile",
                                "economics", "claims")
