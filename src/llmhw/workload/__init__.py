"""What runs: model specs, Hugging Face config loading, the shipped model catalog."""
