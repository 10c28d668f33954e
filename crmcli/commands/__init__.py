"""Typer commands: parse options, call one service, hand the result to crmcli.output."""
