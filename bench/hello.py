"""The yardstick: a bare Typer app shaped like a typical one, on the same installed typer as crm.

`python bench/hello.py --help` and `python bench/hello.py hello` are what bench/run.py compares
`python -m crmcli ...` against, so both pay the same interpreter start-up.
"""

import typer

app = typer.Typer()


@app.callback()
def main() -> None:
    """A bare Typer app with one command."""


@app.command()
def hello(name: str = "world") -> None:
    """Print a greeting."""
    print(f"hello {name}")


if __name__ == "__main__":
    app()
