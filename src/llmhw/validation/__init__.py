"""Published measurements of LLM inference, shipped with llmhw, as checkable scenario cases."""
