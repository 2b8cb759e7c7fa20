from vidlens.cli.app import main

main()
