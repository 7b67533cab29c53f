from actorgraph.server.cli import main

main()
