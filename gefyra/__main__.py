from gefyra.cli.app import main

main()
