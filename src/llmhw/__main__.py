from llmhw.cli import main

main()
