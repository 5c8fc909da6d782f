"""The paper's questions as reproducible studies. Each module has one ``run()`` returning a Study."""
