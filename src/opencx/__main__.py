from opencx.cli.main import run

run()
